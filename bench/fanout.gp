# Plots bench/fanout.py's results (issue 6). Called by fanout.py as
#   gnuplot -e "datafile='x.dat'; outfile='latest.png'; floor=1800; title_extra='AEAD_AES_128_GCM'" bench/fanout.gp
# datafile columns: n, ours ns/packet, ours CPU s/s, Janus ns/packet, Janus CPU s/s, and ours
# again for a second MEDIA_WORKERS value ("NaN" = not measured; ours_title / ours2_title name
# the two series). Left: CPU per delivered packet against N, with the floor (srtp_bench's
# protect + sendmmsg per packet) as a horizontal line. Right: CPU seconds per second against N.
if (!exists("datafile")) datafile = 'latest.dat'
if (!exists("outfile")) outfile = 'latest.png'
if (!exists("floor")) floor = NaN
if (!exists("title_extra")) title_extra = ''
if (!exists("ours_title")) ours_title = 'media-server serve'
if (!exists("ours2_title")) ours2_title = ''

set terminal pngcairo size 1400,560 font ",11" noenhanced
set output outfile
set datafile missing "NaN"
set key top right
set grid
set logscale x
set offsets graph 0.02, graph 0.02, graph 0.08, 0
set xlabel "N egress sessions (stages)"
set multiplot layout 1,2 title "Fan-out: one 720p30 H.264 + Opus WHIP ingest -> N WHIP egress (loopback)"

set title "CPU per delivered packet"
set ylabel "ns / packet (log)"
set logscale y
set yrange [500:*]
set offsets graph 0.02, graph 0.02, 0, 0
plot datafile using 1:2 with linespoints lw 2 pt 7 title ours_title, \
     datafile using 1:6 with linespoints lw 2 pt 9 title ours2_title, \
     datafile using 1:4 with linespoints lw 2 pt 5 title "Janus", \
     floor with lines dt 2 lw 2 title sprintf("floor: SRTP protect + sendmmsg (%s)", title_extra)

set title "CPU seconds per second"
unset logscale y
set offsets graph 0.02, graph 0.02, graph 0.08, 0
set ylabel "CPU s/s (1.0 = one core)"
set yrange [0:*]
plot datafile using 1:3 with linespoints lw 2 pt 7 title ours_title, \
     datafile using 1:7 with linespoints lw 2 pt 9 title ours2_title, \
     datafile using 1:5 with linespoints lw 2 pt 5 title "Janus"
unset multiplot
