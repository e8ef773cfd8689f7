#!/usr/bin/env bash
# The CUDA checks of docs/BENCHMARKS.md ("GPU"), in one go, on a machine with an NVIDIA GPU, CUDA 13, cuDNN 9, a JDK and
# Maven (the gpu Maven profile downloads libtorch's CUDA natives, about 460 MB, on the first build):
#   1. bench of configs/gpt2-124m.yaml at device cuda in bf16 and fp32: tokens/s and MFU (against the measured matmul peak);
#   2. the shakespeare-char recipe trained at device cuda in bf16: its final val loss, to set beside the CPU run's;
#   3. one subnetwork step's time over its FLOPs fraction (bench --subnet) at device cuda in bf16.
# Usage: scripts/gpu-check.sh DATA_DIR_CHAR DATA_DIR_GPT2 [OUT]   (DATA_DIR_GPT2: any corpus prepared with --tokenizer gpt2)
set -euo pipefail
cd "$(dirname "$0")/.."
char="${1:?usage: scripts/gpu-check.sh DATA_DIR_CHAR DATA_DIR_GPT2 [OUT]}"
bpe="${2:?usage: scripts/gpu-check.sh DATA_DIR_CHAR DATA_DIR_GPT2 [OUT]}"
out="${3:-runs/gpu-check}"
export SPROUT_GPU=1
mkdir -p "$out"
for prec in bf16 fp32; do
  ./sprout bench --config configs/gpt2-124m.yaml --data "$bpe" --steps 20 --set device=cuda --set train.precision=$prec | tee "$out/bench-124m-$prec.json"
done
./sprout train --config configs/shakespeare-char.yaml --data "$char" --out "$out/shakespeare-bf16" --set device=cuda --set train.precision=bf16
./sprout bench --config configs/bench.yaml --data "$char" --steps 20 --set device=cuda --set train.precision=bf16 --subnet layers=0.5,heads=0.5,mlp=0.5 \
  | tee "$out/bench-subnet-bf16.json"
echo "gpu-check: results in $out (summary.json of the shakespeare run: final_val_loss)"
