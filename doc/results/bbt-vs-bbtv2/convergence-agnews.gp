# bbtbench plot: convergence-agnews. Edit and re-run `gnuplot convergence-agnews.gp` here to restyle.
set encoding utf8
set xlabel 'API calls'
set ylabel 'best dev metric (%) (median, IQR)'
set grid lc rgb "#d0d0d0"
set key outside right top noenhanced title 'prompt-layers'
set style fill transparent solid 0.2 noborder
set xrange [0:800]
set title 'AG''s News: best dev accuracy against API calls'
set terminal pngcairo size 1200,800 font "DejaVu Sans,20" linewidth 2 noenhanced
set output 'convergence-agnews.png'
plot 'convergence-agnews.dat' index 0 using 1:3:4 with filledcurves lc rgb "#0072B2" notitle, \
  'convergence-agnews.dat' index 0 using 1:2 with steps lc rgb "#0072B2" lw 2 title '1 (n=5)', \
  'convergence-agnews.dat' index 1 using 1:3:4 with filledcurves lc rgb "#D55E00" notitle, \
  'convergence-agnews.dat' index 1 using 1:2 with steps lc rgb "#D55E00" lw 2 title 'all (n=5)', \
  45.625 with lines dt 2 lw 2 lc rgb "#404040" title 'calibrated (n=5)', \
  36.875 with lines dt 3 lw 2 lc rgb "#808080" title 'manual (n=5)'
set terminal svg size 600,400 font "Helvetica,12" linewidth 1 noenhanced dynamic
set output 'convergence-agnews.svg'
replot
unset output
