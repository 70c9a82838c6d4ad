using static TorchSharp.torch;
var a = randn(256, 256, requires_grad: true);
var l = a.matmul(a).sum(); l.backward();
System.Console.WriteLine($"ok {l.item<float>()} {a.grad!.shape[0]} threads={get_num_threads()}");
