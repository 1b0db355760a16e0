#!/usr/bin/env bash
# Makes the small test clips and triplets in Fixtures/ from ffmpeg's synthetic sources (lavfi), so every
# fixture is our own. Run from the repository root; needs the ffmpeg command (Scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
F=Fixtures
mkdir -p "$F/triplets"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact)

# 25 fps, 2 s, with audio (sine), subtitles (SubRip) and a chapter, BT.709 tags.
cat > "$F/subs.srt" <<'SRT'
1
00:00:00,200 --> 00:00:00,900
Hello

2
00:00:01,000 --> 00:00:01,800
World
SRT
cat > "$F/chapters.txt" <<'META'
;FFMETADATA1
title=Tween fixture
[CHAPTER]
TIMEBASE=1/1000
START=0
END=1000
title=First
[CHAPTER]
TIMEBASE=1/1000
START=1000
END=2000
title=Second
META
ff -f lavfi -i "testsrc2=size=160x120:rate=25:duration=2" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" \
   -i "$F/subs.srt" -i "$F/chapters.txt" -map 0:v -map 1:a -map 2:s -map_metadata 3 -map_chapters 3 \
   -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709 \
   -color_range tv -c:a aac -b:a 64k -c:s srt -metadata:s:a:0 language=eng "${BITEXACT[@]}" "$F/clip25_av.mkv"
# The same as mp4 with mov_text subtitles.
ff -i "$F/clip25_av.mkv" -map 0 -c:v copy -c:a copy -c:s mov_text "${BITEXACT[@]}" "$F/clip25_av.mp4"
rm "$F/subs.srt" "$F/chapters.txt"

# 23.976 fps (24000/1001), 48 frames; 30 fps, 30 frames: no audio.
ff -f lavfi -i "testsrc2=size=160x120:rate=24000/1001" -frames:v 48 -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "${BITEXACT[@]}" "$F/clip23976.mp4"
ff -f lavfi -i "testsrc2=size=160x120:rate=30" -frames:v 30 -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "${BITEXACT[@]}" "$F/clip30.mp4"

# A hard scene cut after 1 s (moving test pattern, then moving colour bars).
ff -f lavfi -i "testsrc2=size=160x120:rate=25:duration=1" -f lavfi -i "rgbtestsrc=size=160x120:rate=25:duration=1" \
   -filter_complex "[1:v]hue=h=t*90,format=yuv420p[b];[0:v]format=yuv420p[a];[a][b]concat=n=2:v=1" \
   -c:v libx264 -preset veryfast -crf 23 "${BITEXACT[@]}" "$F/scenecut.mp4"

# Variable frame rate: two of every three frames of a 50 fps source (gaps of 20 and 40 ms).
ff -f lavfi -i "testsrc2=size=160x120:rate=50:duration=1" -vf "select='lt(mod(n\,3)\,2)'" -fps_mode vfr \
   -c:v libx264 -preset veryfast -crf 23 "${BITEXACT[@]}" "$F/vfr.mkv"

# 10-bit 4:2:0, lossless FFV1, 25 fps, 20 frames.
ff -f lavfi -i "testsrc2=size=160x120:rate=25" -frames:v 20 -pix_fmt yuv420p10le -c:v ffv1 "${BITEXACT[@]}" "$F/clip10bit.mkv"

# Lossless 8-bit FFV1 for bit-exact pass-through and colour round-trip checks, 25 fps, 25 frames. Smooth
# gradients: testsrc2's one-pixel saturated colour edges cannot survive 4:2:0 chroma resampling (ffmpeg's own
# yuv420p → RGB → yuv420p round trip scores 34 dB on them).
ff -f lavfi -i "gradients=size=96x64:rate=25:speed=0.05" -frames:v 25 -pix_fmt yuv420p -c:v ffv1 "${BITEXACT[@]}" "$F/lossless.mkv"

# A codec FFmpeg can demux but not decode: an FFV1 Matroska file whose FourCC is renamed.
ff -f lavfi -i "testsrc2=size=32x24:rate=25" -frames:v 3 -c:v ffv1 "${BITEXACT[@]}" "$F/unknown_codec.mkv"
perl -pi -e 's/FFV1/QQQQ/g' "$F/unknown_codec.mkv"

# Audio only (no video stream).
ff -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=0.5" -c:a pcm_s16le "$F/audio_only.wav"

# Rotation metadata (a phone held upright): stored 160×120, shown turned by 90°.
# (ffmpeg 5.1 applies the rotate tag only when stream-copying.)
ff -f lavfi -i "testsrc2=size=160x120:rate=25" -frames:v 10 -c:v libx264 -preset veryfast -pix_fmt yuv420p \
   "${BITEXACT[@]}" "$F/rotated0.mp4"
ff -i "$F/rotated0.mp4" -c copy -metadata:s:v:0 rotate=90 "${BITEXACT[@]}" "$F/rotated.mp4"
rm "$F/rotated0.mp4"

# A bundled sample for the README's first command: 3 s at 25 fps, 320×240, with audio.
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=3" -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=3" \
   -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 64k "${BITEXACT[@]}" "$F/sample.mp4"

# A tiny triplet: frames 0, 6 and 12 of a moving pattern; one 16-bit, one gray and one RGBA PNG.
ff -f lavfi -i "testsrc2=size=64x48:rate=25" -vf "select='not(mod(n\,6))'" -fps_mode passthrough -frames:v 3 -pix_fmt rgb24 -start_number 0 "$F/triplets/t%d.png"
mkdir -p "$F/triplets/seq/a"
for i in 0 1 2; do mv "$F/triplets/t$i.png" "$F/triplets/seq/a/frame$i.png"; done
# (Other layouts, such as Middlebury's file names, are built from these frames by the tests at run time, so no
# file here is named like a benchmark set's.)
ff -f lavfi -i "testsrc2=size=40x30:rate=25" -frames:v 1 -pix_fmt rgb48be "$F/rgb16.png"
ff -f lavfi -i "testsrc2=size=40x30:rate=25" -frames:v 1 -pix_fmt gray "$F/gray8.png"
ff -f lavfi -i "testsrc2=size=40x30:rate=25" -frames:v 1 -pix_fmt rgba "$F/rgba8.png"

# A PNG sequence of 10 frames (image-sequence input).
mkdir -p "$F/pngseq"
ff -f lavfi -i "testsrc2=size=64x48:rate=10" -frames:v 10 -pix_fmt rgb24 -start_number 1 "$F/pngseq/f%03d.png"

# An RGBA sequence with a horizontal alpha ramp (transparency must survive where the codec can hold it).
mkdir -p "$F/rgbaseq"
ff -f lavfi -i "testsrc2=size=64x48:rate=10,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='X*4'" -frames:v 4 "$F/rgbaseq/f%02d.png"

# Animation "on twos": 12 distinct drawings a second, each shown twice at 24 fps (lossless, so repeats are exact;
# blurred and 4:4:4, so that a frame converted to RGB and back is the same frame within rounding).
ff -f lavfi -i "testsrc2=size=96x64:rate=12" -t 2 -vf "gblur=sigma=2,fps=24" -c:v libx264 -qp 0 -pix_fmt yuv444p "${BITEXACT[@]}" "$F/doubled12.mp4"

du -sh "$F"
