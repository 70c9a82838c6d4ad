using System.Diagnostics;
using Xunit;

namespace SparseCircuits.Tests.Training;

/// <summary>A fresh directory under the system temp folder, deleted with the test.</summary>
sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sc-training-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs the tests that check our files against an independent Python reader/writer.</summary>
static class Python
{
    public static readonly string? Executable = Find();

    static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = System.IO.Path.Combine(dir, "python3");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs <paramref name="script"/> (stdlib only) and returns its stdout; fails the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        string scriptPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sc-test-{Guid.NewGuid():N}.py");
        File.WriteAllText(scriptPath, script);
        try
        {
            var info = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("python3 not found"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(scriptPath);
            foreach (string a in args) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill();
                Assert.Fail("python3 did not finish within 60 s");
            }
            Assert.True(process.ExitCode == 0, $"python3 failed ({process.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
        finally
        {
            File.Delete(scriptPath);
        }
    }
}

/// <summary>A fact that is skipped, not failed, on machines without python3.</summary>
sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (Python.Executable is null) Skip = "python3 is not on PATH";
    }
}

/// <summary>A fact for CPUs that multiply bfloat16 natively (where `matmul_precision` auto picks bf16); skipped elsewhere.</summary>
sealed class NativeBf16FactAttribute : FactAttribute
{
    public NativeBf16FactAttribute()
    {
        if (SparseCircuits.Model.MatmulPrecisions.Fastest() != SparseCircuits.Model.MatmulPrecision.Bf16)
            Skip = "this CPU has neither AVX512_BF16 nor AMX-BF16";
    }
}

static class Bits
{
    /// <summary>Same dtype, shape and bytes: the bar for "bit-identical".</summary>
    public static bool Identical(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ac = a.contiguous();
        using var bc = b.contiguous();
        return ac.bytes.SequenceEqual(bc.bytes);
    }
}
