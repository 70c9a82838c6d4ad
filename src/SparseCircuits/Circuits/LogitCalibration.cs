using SparseCircuits.Tasks;
namespace SparseCircuits.Circuits;

/// <summary>
/// Optional logit calibration (docs/method.md: "fit a scale and shift of the final logits"): the final
/// logits become <c>Scale * logits + Shift * e_a</c>, where a is the lower token id of the
/// prompt's two answers. Only the two answers' difference matters to the task loss, so this is
/// the binary logit <c>Scale * d ± Shift</c> (+ when the correct answer has the lower id). A
/// shift of all logits by one constant would change nothing, hence the shift on one answer.
/// Fitted by Newton's method (the loss is convex in both numbers); off by default and always
/// reported when on.
/// </summary>
public sealed record LogitCalibration(double Scale, double Shift)
{
    public static LogitCalibration Identity { get; } = new(1, 0);

    /// <summary>The calibrated difference logit(correct) - logit(wrong).</summary>
    public double Apply(TaskExample example, double logitDifference) => Scale * logitDifference + Shift * Orientation(example);

    /// <summary>The calibrated differences of all <paramref name="examples"/>.</summary>
    public IReadOnlyList<double> Apply(IReadOnlyList<TaskExample> examples, IReadOnlyList<double> logitDifferences) =>
        logitDifferences.Select((d, i) => Apply(examples[i], d)).ToArray();

    static double Orientation(TaskExample e) => e.CorrectId < e.WrongId ? 1 : -1;

    /// <summary>Scale and shift minimising the mean task loss of <paramref name="logitDifferences"/>.</summary>
    public static LogitCalibration Fit(IReadOnlyList<TaskExample> examples, IReadOnlyList<double> logitDifferences, int iterations = 50)
    {
        int n = logitDifferences.Count;
        double s = 1, b = 0;
        double Loss(double scale, double shift)
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += TaskLoss.PerPrompt(scale * logitDifferences[i] + shift * Orientation(examples[i]));
            return total / n;
        }
        double current = Loss(s, b);
        for (int iter = 0; iter < iterations; iter++)
        {
            // Loss per prompt: softplus(-z), z = s*d + b*o; dz/ds = d, dz/db = o.
            double gs = 0, gb = 0, hss = 0, hsb = 0, hbb = 0;
            for (int i = 0; i < n; i++)
            {
                double d = logitDifferences[i], o = Orientation(examples[i]);
                double z = s * d + b * o;
                double p = 1 / (1 + Math.Exp(z)); // sigmoid(-z) = -dLoss/dz
                double w = p * (1 - p);
                gs -= p * d; gb -= p * o;
                hss += w * d * d; hsb += w * d * o; hbb += w * o * o;
            }
            gs /= n; gb /= n; hss = hss / n + 1e-9; hsb /= n; hbb = hbb / n + 1e-9;
            double det = hss * hbb - hsb * hsb;
            if (!(det > 0) || Math.Sqrt(gs * gs + gb * gb) < 1e-10) break;
            double ds = -(hbb * gs - hsb * gb) / det, db = -(hss * gb - hsb * gs) / det;
            // Backtracking keeps every step a descent step, also where the Hessian is nearly flat.
            double step = 1;
            while (step > 1e-6 && Loss(s + step * ds, b + step * db) > current) step /= 2;
            if (step <= 1e-6) break;
            s += step * ds; b += step * db;
            current = Loss(s, b);
        }
        return new LogitCalibration(s, b);
    }
}
