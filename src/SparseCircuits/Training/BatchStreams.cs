using SparseCircuits.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// The forward/backward of one training batch, leaving the mean next-token loss's gradient in
/// every parameter's <c>.grad</c>. With <c>streams</c> &gt; 1 the batch is split into that many
/// equal parts that run at the same time, each on its own OS thread with one libtorch thread:
/// at <c>small</c>'s narrow shapes two single-threaded passes use two cores better than one
/// two-threaded pass (docs/benchmarks.md). Each part's gradients come from
/// <c>autograd.grad</c> and are summed in part order, so a run stays bit-for-bit reproducible;
/// the result equals the one-batch gradient up to float summation order.
/// </summary>
public static class BatchStreams
{
    /// <summary>Runs the batch (B, T+1) token windows; returns the mean loss over all B*T targets.</summary>
    public static double ForwardBackward(SparseGpt model, Tensor windows, IReadOnlyList<Tensor> parameters, int streams)
    {
        long B = windows.shape[0], T = windows.shape[1] - 1;
        if (streams <= 1)
        {
            Tensor loss = Loss(model, windows, T);
            model.zero_grad();
            loss.backward();
            return loss.item<float>();
        }
        if (B % streams != 0) throw new ArgumentException($"batch of {B} does not split into {streams} equal streams", nameof(streams));

        Tensor[] parts = windows.chunk(streams, dim: 0);
        int callerThreads = torch.get_num_threads();
        var grads = new Tensor?[streams][];
        var losses = new double[streams];
        var errors = new Exception?[streams];
        Workers.Run(streams, i =>
        {
            try
            {
                using var scope = NewDisposeScope();
                Tensor loss = Loss(model, parts[i], T);
                losses[i] = loss.item<float>();
                grads[i] = torch.autograd.grad([loss], parameters.ToList(), allow_unused: true)
                    .Select(g => g?.DetachFromDisposeScope()).ToArray();
            }
            catch (Exception e) { errors[i] = e; }
        });
        torch.set_num_threads(callerThreads); // libtorch's thread settings are partly process-wide: the rest of the step uses all cores again
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw new AggregateException(error);

        // Equal parts: the batch mean is the mean of the part means, and so is its gradient.
        using (no_grad())
        {
            using Scalar streamCount = streams; // explicit, not an implicit temporary a GC could finalise mid-call
            for (int p = 0; p < parameters.Count; p++)
            {
                Tensor? sum = null;
                for (int i = 0; i < streams; i++)
                {
                    if (grads[i][p] is not Tensor g) continue;
                    if (sum is null) sum = g;
                    else { sum.add_(g); g.Dispose(); }
                }
                if (sum is null) continue;
                sum.div_(streamCount);
                parameters[p].grad = sum;
                sum.Dispose(); // the parameter holds its own reference to the gradient
            }
        }
        return losses.Average();
    }

    /// <summary>
    /// Long-lived stream threads, one libtorch thread each. Reusing them (rather than new threads
    /// every step) keeps the number of per-thread malloc arenas, and so the resident memory, small.
    /// </summary>
    static class Workers
    {
        static readonly object Gate = new();
        static readonly List<System.Collections.Concurrent.BlockingCollection<Action>> Queues = [];

        public static void Run(int count, Action<int> work)
        {
            lock (Gate)
            {
                while (Queues.Count < count) Start(Queues.Count);
                using var done = new CountdownEvent(count);
                for (int i = 0; i < count; i++)
                {
                    int index = i;
                    Queues[i].Add(() => { try { work(index); } finally { done.Signal(); } });
                }
                done.Wait();
            }
        }

        static void Start(int index)
        {
            var queue = new System.Collections.Concurrent.BlockingCollection<Action>();
            Queues.Add(queue);
            new Thread(() =>
            {
                torch.set_num_threads(1); // per OS thread: this stream's ops stay on its own core
                foreach (Action action in queue.GetConsumingEnumerable()) action();
            }) { IsBackground = true, Name = $"batch-stream-{index}" }.Start();
        }
    }

    static Tensor Loss(SparseGpt model, Tensor windows, long T)
    {
        Tensor logits = model.forward(windows.narrow(1, 0, T));
        return FusedCrossEntropy.Mean(logits.view(-1, logits.shape[2]), windows.narrow(1, 1, T).reshape(-1));
    }
}
