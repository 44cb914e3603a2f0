func.func @main(%x: tensor<512x512xf32>) -> (tensor<512x256xf32>, tensor<256x512xf32>) {
  %a = tensor.extract_slice %x[0, 1] [512, 256] [1, 2] : tensor<512x512xf32> to tensor<512x256xf32>
  %b = tensor.extract_slice %x[1, 0] [256, 512] [2, 1] : tensor<512x512xf32> to tensor<256x512xf32>
  return %a, %b : tensor<512x256xf32>, tensor<256x512xf32>
}
