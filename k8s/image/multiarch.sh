#!/usr/bin/env bash
# Builds Infergate's image for amd64 and arm64 and joins them in one multi-platform image (an
# OCI image index), without a Docker daemon: a container runtime on either kind of machine pulls
# the image of its own architecture by the same name.
#
#   k8s/image/multiarch.sh [OUT]   OUT defaults to app/target/infergate-multiarch.tar (oci-archive)
#
# Each architecture's image is Jib's, built on Debian 12's OpenJDK 17 for that architecture (made
# by base-image.sh, once, under k8s/image/target/) with TensorFlow's natives for it (the arm64
# profile swaps linux-x86_64 for linux-arm64). Push both at once with:
#   skopeo copy --all oci-archive:app/target/infergate-multiarch.tar docker://REGISTRY/infergate:TAG
# Needs root, mmdebstrap, umoci, skopeo, jq; on an x86-64 machine also qemu-user-static and
# arch-test (the arm64 base's packages set themselves up under emulation).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-app/target/infergate-multiarch.tar}")
version=$(./mvnw -q -N help:evaluate -Dexpression=project.version -DforceStdout)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout="$work/oci"

for arch in amd64 arm64; do
  base="$PWD/k8s/image/target/base-cpu.tar"
  [[ $arch == amd64 ]] || base="$PWD/k8s/image/target/base-cpu-$arch.tar"
  [[ -f "$base" ]] || k8s/image/base-image.sh cpu "$base" "$arch"
  profiles=image,arm64
  [[ $arch == amd64 ]] && profiles='image,!arm64'
  # Each architecture builds in a directory of its own: app/target keeps this machine's distribution.
  build="$PWD/app/target/image-$arch"
  ./mvnw -B -q -DskipTests package -pl app -am -P "$profiles" \
    "-Dinfergate.image.base=tar://$base" "-Dinfergate.app.build.directory=$build"
  skopeo copy --quiet "docker-archive:$build/jib-image.tar" "oci:$layout:$arch"
done

# The index: one entry per architecture's manifest, with its platform, under the version's tag.
entries=()
for arch in amd64 arm64; do
  entries+=("$(jq -c --arg arch "$arch" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $arch)
    | del(.annotations) | .platform = {architecture: $arch, os: "linux"}' "$layout/index.json")")
done
index=$(jq -cn --argjson manifests "[$(IFS=,; echo "${entries[*]}")]" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: $manifests}')
digest=$(printf '%s' "$index" | sha256sum | cut -d' ' -f1)
printf '%s' "$index" > "$layout/blobs/sha256/$digest"
jq -n --arg digest "sha256:$digest" --argjson size "${#index}" --arg tag "$version" \
  '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $digest,
    size: $size, annotations: {"org.opencontainers.image.ref.name": $tag}}]}' > "$layout/index.json"
rm -f "$out"
tar -C "$layout" -cf "$out" .
echo "Multi-platform image (linux/amd64, linux/arm64), tag $version: $out"
skopeo inspect --raw "oci-archive:$out:$version" | jq -c '.manifests[] | {platform, digest, size}'
