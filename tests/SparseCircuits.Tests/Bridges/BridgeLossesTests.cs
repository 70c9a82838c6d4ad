using SparseCircuits.Bridges;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Bridges;

public sealed class BridgeLossesTests
{
    [Fact]
    public void Nmse_is_the_mean_token_error_over_the_targets_spread_around_its_mean_vector()
    {
        // Targets: tokens (1, 2) and (3, 4); mean vector (2, 3); spread per token 1 + 1 = 2, mean 2.
        // Predictions (1, 1) and (3, 6): squared errors 0 + 1 = 1 and 0 + 4 = 4, mean 2.5. NMSE = 2.5 / 2.
        using Tensor target = tensor(new float[] { 1, 2, 3, 4 }).view(1, 2, 2);
        using Tensor prediction = tensor(new float[] { 1, 1, 3, 6 }).view(1, 2, 2);
        using Tensor nmse = BridgeLosses.Nmse(prediction, target);
        Assert.Equal(1.25, nmse.item<float>(), 6);
    }

    [Fact]
    public void Predicting_the_mean_vector_scores_one()
    {
        using Tensor target = tensor(new float[] { 1, 2, 3, 4, -2, 7 }).view(3, 2);
        using Tensor mean = target.mean([0], keepdim: true).expand(3, 2);
        Assert.Equal(1.0, BridgeLosses.Nmse(mean, target).item<float>(), 5);
    }

    [Fact]
    public void Nmse_holds_its_denominator_fixed()
    {
        // Gradient w.r.t. the target is that of the numerator alone: d/dt [mean_tokens sum (p - t)^2] / D = -2 (p - t) / (N D).
        using Tensor target = tensor(new float[] { 1, 2, 3, 4 }).view(2, 2).requires_grad_(true);
        using Tensor prediction = tensor(new float[] { 1, 1, 3, 6 }).view(2, 2);
        BridgeLosses.Nmse(prediction, target).backward();
        float[] expected = [0, -2 * (1 - 2) / (2f * 2), 0, -2 * (6 - 4) / (2f * 2)];
        float[] actual = target.grad!.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Kl_matches_a_hand_computed_value_and_is_zero_for_equal_logits()
    {
        // Reference p = softmax(0, ln 3) = (1/4, 3/4); q = softmax(0, 0) = (1/2, 1/2).
        // KL(p || q) = 1/4 ln(1/2) + 3/4 ln(3/2), the same on both tokens.
        using Tensor reference = tensor(new float[] { 0, (float)Math.Log(3), 0, (float)Math.Log(3) }).view(1, 2, 2);
        using Tensor logits = zeros(1, 2, 2);
        double expected = 0.25 * Math.Log(0.5) + 0.75 * Math.Log(1.5);
        Assert.Equal(expected, BridgeLosses.Kl(reference, logits).item<float>(), 6);
        Assert.Equal(0, BridgeLosses.Kl(reference, reference + 5).item<float>(), 6);
    }

    [Fact]
    public void Kl_does_not_send_gradients_into_the_reference()
    {
        using Tensor reference = tensor(new float[] { 0.3f, -1, 2 }).requires_grad_(true);
        using Tensor logits = tensor(new float[] { 1, 0, 0 }).requires_grad_(true);
        BridgeLosses.Kl(reference, logits).backward();
        Assert.Null(reference.grad);
        Assert.NotNull(logits.grad);
    }
}
