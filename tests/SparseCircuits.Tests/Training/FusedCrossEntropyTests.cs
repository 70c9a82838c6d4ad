using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

/// <summary>The fused CPU cross-entropy against a hand-computed case and libtorch's <c>cross_entropy</c>.</summary>
public sealed class FusedCrossEntropyTests
{
    public FusedCrossEntropyTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Hand_computed_two_token_case()
    {
        using var scope = NewDisposeScope();
        // Row 0: softmax of (0, ln 3) is (1/4, 3/4), target 1 -> loss -ln(3/4). Row 1: (0, 0) target 0 -> ln 2.
        Tensor logits = tensor(new float[] { 0f, MathF.Log(3f), 0f, 0f }, [2, 2]).requires_grad_();
        Tensor loss = FusedCrossEntropy.Mean(logits, tensor(new long[] { 1, 0 }));
        loss.backward();
        Assert.Equal((-Math.Log(0.75) + Math.Log(2)) / 2, loss.item<float>(), 6);
        float[] grad = logits.grad!.data<float>().ToArray();
        // d/dlogits = (softmax - onehot) / N
        Assert.Equal(new[] { 0.125f, -0.125f, -0.25f, 0.25f }, grad.Select(v => MathF.Round(v, 6)).ToArray());
    }

    /// <summary>Widths around the vector size (16) and the vocabulary (2048); rows enough to split over workers.</summary>
    [Theory]
    [InlineData(3, 1), InlineData(5, 15), InlineData(5, 16), InlineData(5, 17), InlineData(4096, 33), InlineData(300, 2048)]
    public void Loss_and_gradient_match_libtorch(int rows, int width)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)(rows * 31 + width), CPU);
        Tensor values = randn(rows, width, generator: g) * 8; // large logits: the max shift matters
        Tensor targets = randint(width, [rows], generator: g);
        Tensor fusedInput = values.clone().requires_grad_(), referenceInput = values.clone().requires_grad_();
        Tensor fused = FusedCrossEntropy.Mean(fusedInput, targets), reference = nn.functional.cross_entropy(referenceInput, targets);
        fused.backward();
        reference.backward();
        Assert.Equal(reference.item<float>(), fused.item<float>(), 4);
        Assert.True(fusedInput.grad!.allclose(referenceInput.grad!, rtol: 1e-4, atol: 1e-7), $"gradients differ at {rows} x {width}");
    }

    [Fact]
    public void Upstream_gradient_scales_the_result_and_flows_into_earlier_ops()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7, CPU);
        Tensor a = randn(64, 8, generator: g), b = randn(8, 40, generator: g);
        Tensor targets = randint(40, [64], generator: g);
        Tensor fusedWeight = b.clone().requires_grad_(), referenceWeight = b.clone().requires_grad_();
        // A transposed (non-contiguous) view of the logits, and an upstream gradient of 3.
        (FusedCrossEntropy.Mean(a.matmul(fusedWeight).t().contiguous().t(), targets) * 3).backward();
        (nn.functional.cross_entropy(a.matmul(referenceWeight), targets) * 3).backward();
        Assert.True(fusedWeight.grad!.allclose(referenceWeight.grad!, rtol: 1e-4, atol: 1e-6));
    }

    [Fact]
    public void The_loss_does_not_depend_on_the_thread_count()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3, CPU);
        Tensor logits = randn(2048, 64, generator: g), targets = randint(64, [2048], generator: g);
        int threads = get_num_threads();
        try
        {
            set_num_threads(1);
            var (one, oneGrad) = FusedCrossEntropy.LossAndGradient(logits, targets);
            set_num_threads(2);
            var (two, twoGrad) = FusedCrossEntropy.LossAndGradient(logits, targets);
            Assert.Equal(one.item<float>(), two.item<float>());
            Assert.True(oneGrad.equal(twoGrad).all().item<bool>());
        }
        finally { set_num_threads(threads); }
    }

    [Fact]
    public void Target_outside_the_vocabulary_is_an_error_and_other_dtypes_use_libtorch()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => FusedCrossEntropy.Mean(zeros(2, 4), tensor(new long[] { 1, 4 })));
        Assert.Contains("target id 4 at row 1", error.Message);

        Tensor doubles = randn(6, 5, ScalarType.Float64), targets = tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        Assert.Equal(nn.functional.cross_entropy(doubles, targets).item<double>(), FusedCrossEntropy.Mean(doubles, targets).item<double>());
    }
}
