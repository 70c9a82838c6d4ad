using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>Checks that libtorch loads and autograd runs on this machine.</summary>
static class TorchSmoke
{
    public static int Run(string[] args)
    {
        var a = randn(256, 256, requires_grad: true);
        var l = a.matmul(a).sum();
        l.backward();
        Console.WriteLine($"ok {l.item<float>()} {a.grad!.shape[0]} threads={get_num_threads()}");
        return 0;
    }
}
