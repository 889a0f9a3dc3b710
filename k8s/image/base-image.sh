#!/usr/bin/env bash
# Makes the base image Infergate's image is built on, as a tarball Jib reads (tar://), without a
# Docker daemon: Debian's packages unpacked by mmdebstrap, packed as an OCI image by umoci, saved
# by skopeo (all three from Debian). A user with access to a registry can build from a public JRE
# image instead (see docs/kubernetes.md); this is for machines that reach only Debian's mirror.
#
#   k8s/image/base-image.sh cpu OUT.tar [ARCH]  Debian 12 with OpenJDK 17's headless JRE, for
#                                               ARCH amd64 (the default) or arm64
#   k8s/image/base-image.sh gpu OUT.tar         NVIDIA's CUDA 12 / cuDNN 9 runtime image with
#                                               OpenJDK 17 added: needs to pull nvidia/cuda from
#                                               Docker Hub (amd64 only)
# Needs root (mmdebstrap and chroot), and the packages mmdebstrap, umoci and skopeo; an arm64
# base on an x86-64 machine also needs qemu-user-static and arch-test (packages run their set-up
# scripts under emulation, see qemu-binfmt.sh).
set -euo pipefail
variant=${1:?cpu or gpu}
out=$(realpath -m "${2:?output tarball}")
arch=${3:-amd64}
case "$arch" in
  amd64) ;;
  arm64) "$(dirname "$0")/qemu-binfmt.sh" ;;
  *) echo "base-image.sh: the architecture is amd64 or arm64, not $arch" >&2; exit 2 ;;
esac
if [[ $variant == gpu && $arch != amd64 ]]; then
  echo "base-image.sh: TensorFlow's GPU natives are built for amd64 only" >&2
  exit 2
fi
cuda_image=${CUDA_IMAGE:-docker.io/nvidia/cuda:12.5.1-cudnn-runtime-ubuntu22.04}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout="$work/oci"

case "$variant" in
  cpu)
    # minbase: no init, no shell utilities beyond what apt needs; the JRE and the CA certificates.
    mmdebstrap --quiet --architectures="$arch" --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
      --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
      bookworm "$work/rootfs.tar"
    umoci init --layout "$layout"
    umoci new --image "$layout:base"
    umoci raw add-layer --image "$layout:base" "$work/rootfs.tar"
    ;;
  gpu)
    skopeo copy "docker://$cuda_image" "oci:$layout:base"
    umoci unpack --image "$layout:base" "$work/bundle"
    cp /etc/resolv.conf "$work/bundle/rootfs/etc/resolv.conf"
    chroot "$work/bundle/rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*'
    umoci repack --image "$layout:base" "$work/bundle"
    ;;
  *)
    echo "base-image.sh: the variant is cpu or gpu, not $variant" >&2
    exit 2
    ;;
esac
umoci config --image "$layout:base" --config.env LANG=C.UTF-8 --config.workingdir /tmp \
  --architecture "$arch" --os linux
mkdir -p "$(dirname "$out")"
# Written aside and moved into place: an interrupted run leaves no tarball that looks complete.
rm -f "$out" "$out.partial"
skopeo copy --quiet "oci:$layout:base" "docker-archive:$out.partial:infergate-base:$variant"
mv "$out.partial" "$out"
echo "Base image ($variant, $arch): $out"
