#!/bin/sh
# One opset of old-opsets.test: the model of old_opset_model.py through
# qopt-compile + qrun and through ONNX Runtime, every output compared.
# usage: run_old_opset.sh BIN SRC TMP NODE ORT_RUN_MJS PYTHON COMPARE_PY OPSET
set -e
bin=$1 src=$2 tmp=$3 node=$4 ort=$5 python=$6 compare=$7 v=$8
d=$tmp/opset$v
mkdir -p $d/in
$python $src/old_opset_model.py $v > $d/model.onnxtxt
$python $src/old_opset_model.py $v --inputs $d/in
$bin/onnx-text2pb $d/model.onnxtxt $d/model.onnx
inputs="--input X=$d/in/X.npy --input I=$d/in/I.npy --input Y=$d/in/Y.npy"
$bin/qopt-compile $d/model.onnx -o $d/model.so
$bin/qrun run $d/model.so $inputs --output-dir $d/qopt > /dev/null
$node $ort $d/model.onnx $inputs --output-dir $d/ort --threads 1 \
  > /dev/null 2> $d/ort.log
total=0 ok=0
for f in $d/ort/*.npy; do
  name=$(basename $f .npy)
  [ "$name" = drop_mask ] && [ $v -lt 12 ] && continue
  total=$((total + 1))
  if out=$($python $compare $d/qopt/$name.npy $f 2>&1); then
    ok=$((ok + 1))
  else
    echo "$name: $out"
  fi
done
echo "opset $v: $ok of $total outputs match ONNX Runtime"
