# bbtbench plot: sst2-vs-d. Edit and re-run `gnuplot sst2-vs-d.gp` here to restyle.
set encoding utf8
set xlabel 'subspace dimension d'
set ylabel 'test accuracy (%)'
set grid lc rgb "#d0d0d0"
set key outside right top noenhanced title 'optimizer'
set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.1
set logscale x
set autoscale xfix
set xtics (50, 200, 1000)
set title 'SST-2: test accuracy against d'
set terminal pngcairo size 1200,800 font "DejaVu Sans,20" linewidth 2 noenhanced
set output 'sst2-vs-d.png'
plot 'sst2-vs-d.dat' index 0 using 1:2:3 with yerrorlines lc rgb "#0072B2" lw 2 pt 7 ps 1.5 title 'adam (n=10)', \
  'sst2-vs-d.dat' index 1 using 1:2:3 with yerrorlines lc rgb "#D55E00" lw 2 pt 7 ps 1.5 title 'cmaes (n=10)', \
  'sst2-vs-d.dat' index 2 using 1:2:3 with yerrorlines lc rgb "#009E73" lw 2 pt 7 ps 1.5 title 'random (n=10)', \
  'sst2-vs-d.dat' index 3 using 1:2:3 with yerrorlines lc rgb "#CC79A7" lw 2 pt 7 ps 1.5 title 'zo-adam (n=10)', \
  'sst2-vs-d.dat' index 4 using 1:2:3 with yerrorlines lc rgb "#E69F00" lw 2 pt 7 ps 1.5 title 'zo-sgd (n=10)'
set terminal svg size 600,400 font "Helvetica,12" linewidth 1 noenhanced dynamic
set output 'sst2-vs-d.svg'
replot
unset output
