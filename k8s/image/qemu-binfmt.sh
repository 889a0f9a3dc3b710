#!/usr/bin/env bash
# Lets this x86-64 machine run arm64 programs: registers qemu's user-mode emulator (Debian's
# qemu-user-static) with the kernel's binfmt_misc for AArch64 binaries. The F flag makes the
# kernel open the emulator now, so it also runs binaries inside a chroot that lacks it.
# Needs root; does nothing on an arm64 machine or where the entry exists already.
set -euo pipefail
[[ $(uname -m) == aarch64 ]] && exit 0
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
[[ -e $entry ]] && grep -q '^enabled' "$entry" && grep -q '^flags:.*F' "$entry" && exit 0
if [[ ! -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ]]; then
  echo "qemu-binfmt.sh: qemu's AArch64 emulator is missing: apt-get install qemu-user-static" >&2
  exit 2
fi
[[ -e /proc/sys/fs/binfmt_misc/register ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[[ -e $entry ]] && echo -1 > "$entry"
# AArch64 ELF executables (the magic and mask of Debian's /usr/lib/binfmt.d/qemu-aarch64.conf).
magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
echo ":qemu-aarch64:M::$magic:$mask:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF" \
  > /proc/sys/fs/binfmt_misc/register
