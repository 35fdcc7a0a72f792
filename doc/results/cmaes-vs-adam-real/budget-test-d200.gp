# bbtbench plot: budget-test-d200. Edit and re-run `gnuplot budget-test-d200.gp` here to restyle.
set encoding utf8
set xlabel 'API calls'
set ylabel 'test metric of the best-on-dev prompt (%) (median, IQR)'
set grid lc rgb "#d0d0d0"
set key outside right top noenhanced title 'optimizer'
set style fill transparent solid 0.2 noborder
set xrange [0:200]
set title 'SST-2, d = 200: test accuracy of the prompt chosen on dev, against API calls'
set terminal pngcairo size 1200,800 font "DejaVu Sans,20" linewidth 2 noenhanced
set output 'budget-test-d200.png'
plot 'budget-test-d200.dat' index 0 using 1:3:4 with filledcurves lc rgb "#0072B2" notitle, \
  'budget-test-d200.dat' index 0 using 1:2 with steps lc rgb "#0072B2" lw 2 title 'adam (n=10)', \
  'budget-test-d200.dat' index 1 using 1:3:4 with filledcurves lc rgb "#D55E00" notitle, \
  'budget-test-d200.dat' index 1 using 1:2 with steps lc rgb "#D55E00" lw 2 title 'cmaes (n=10)', \
  'budget-test-d200.dat' index 2 using 1:3:4 with filledcurves lc rgb "#009E73" notitle, \
  'budget-test-d200.dat' index 2 using 1:2 with steps lc rgb "#009E73" lw 2 title 'random (n=10)', \
  'budget-test-d200.dat' index 3 using 1:3:4 with filledcurves lc rgb "#CC79A7" notitle, \
  'budget-test-d200.dat' index 3 using 1:2 with steps lc rgb "#CC79A7" lw 2 title 'zo-adam (n=10)', \
  'budget-test-d200.dat' index 4 using 1:3:4 with filledcurves lc rgb "#E69F00" notitle, \
  'budget-test-d200.dat' index 4 using 1:2 with steps lc rgb "#E69F00" lw 2 title 'zo-sgd (n=10)'
set terminal svg size 600,400 font "Helvetica,12" linewidth 1 noenhanced dynamic
set output 'budget-test-d200.svg'
replot
unset output
