using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Circuits;

namespace SparseCircuits.Tests.Reports;

/// <summary>The planted model with its means and a mean-ablation over all its nodes, for circuit-mode tests.</summary>
internal sealed class PlantedAblation : IDisposable
{
    public SparseGpt Model { get; }
    public MeanActivations Means { get; }
    public NodeSpace Space { get; }
    public NodeAblation Ablation { get; }

    public PlantedAblation()
    {
        TorchRuntime.EnsureInitialized();
        Model = PlantedModel.Create();
        Means = PlantedModel.Means(Model);
        Space = new NodeSpace(Model.Config);
        Ablation = new NodeAblation(Space, Means, AblationKind.Mean);
    }

    public void Dispose()
    {
        Ablation.Dispose();
        Means.Dispose();
        Model.Dispose();
    }
}
