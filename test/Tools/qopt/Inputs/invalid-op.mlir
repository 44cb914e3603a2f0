// An op that fails verification, for the error tests.
func.func @f(%x: tensor<4xi8>) -> tensor<4xi8> {
  %p = qopt.pack %x : tensor<4xi8> -> tensor<4xi8>
  return %p : tensor<4xi8>
}
