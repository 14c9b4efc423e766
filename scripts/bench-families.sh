#!/bin/sh
# Benchmarks modelc against ONNX Runtime on model families the shared models
# lack (scripts/family_models.cpp: ResNeXt, DenseNet, Inception, ConvNeXt,
# U-Net, MobileNetV3, ShuffleNetV2, ViT, LSTM, GRU, YOLO, GPT, 1-D audio, style
# transfer (InstanceNorm), ESPCN (DepthToSpace), segmentation (Softmax over
# channels), Inception-v3 style, AlexNet, fast neural style, GroupNorm residual, RegNet, EfficientNetV2 and wide encoder networks with seeded random weights), the way bench-models.sh does
# for the shared ones: a check that the schedules generalize. The reference
# outputs come from ONNX Runtime itself (scripts/ort_reference.mjs), so the
# check against them is a check that modelc and ONNX Runtime agree.
#
#   sh scripts/bench-families.sh [bench-models.sh options] [MODEL ...]
set -eu
cd "$(dirname "$0")/.."
cache="${MODELC_CACHE:-$HOME/.cache/modelc}"
if [ ! -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
  sh scripts/install-onnxruntime.sh >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
c++ -std=c++20 -O1 -DONNX_ML=1 -DONNX_NAMESPACE=onnx scripts/family_models.cpp -o "$work/family_models" \
  -lonnx -lonnx_proto -lprotobuf
mkdir "$work/models"
"$work/family_models" "$work/models"
for model in "$work"/models/*.onnx; do
  stem="${model%.onnx}"
  node scripts/ort_reference.mjs "$cache/node_modules" "$model" "$stem.input.npy" "$stem.output.npy"
done
MODELC_SHARED_MODELS="$work/models" sh scripts/bench-models.sh "$@"
