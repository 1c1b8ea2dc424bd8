using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace OpenVision.Training.Tests.Distributed;

/// <summary>Starts OpenVision.Distributed.TestHost alone or under the system's real <c>mpirun</c> (one thread per rank).</summary>
internal static class TestHost
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    private static string HostDll => Path.Combine(AppContext.BaseDirectory, "OpenVision.Distributed.TestHost.dll");

    /// <summary>mpirun from PATH; the tests need Open MPI installed (.ci/apt-packages.txt lists it).</summary>
    public static string Mpirun => Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev)");

    /// <summary>Starts the host: <paramref name="ranks"/> = 0 runs it as a plain process, N ≥ 1 under <c>mpirun -np N</c>.</summary>
    public static Process Start(int ranks, params string[] args)
    {
        var info = new ProcessStartInfo(ranks == 0 ? "dotnet" : Mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
            // --oversubscribe: more ranks than this 2-core machine has slots; no binding, so ranks share cores freely.
            foreach (var a in new[] { "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(), "dotnet" }) info.ArgumentList.Add(a);
        info.ArgumentList.Add(HostDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";            // CI runs as root
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        info.Environment.Remove("OPENVISION_DISTRIBUTED");
        return Process.Start(info)!;
    }

    /// <summary>Runs the host to completion (killed after <paramref name="timeout"/>).</summary>
    public static Result Run(int ranks, TimeSpan timeout, params string[] args)
    {
        using var process = Start(ranks, args);
        return Wait(process, timeout, args);
    }

    public static Result Wait(Process process, TimeSpan timeout, string[] args)
    {
        var clock = Stopwatch.StartNew();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"test host did not finish in {timeout}: {string.Join(' ', args)}\n{stdout.Result}\n{stderr.Result}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static Result Succeed(int ranks, params string[] args)
    {
        var result = Run(ranks, TimeSpan.FromMinutes(3), args);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>The training result rank 0 wrote: losses per step and every parameter as float64.</summary>
    public static TrainResult ReadResult(string output)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "result.json")));
        var root = json.RootElement;
        return new TrainResult(root.GetProperty("world_size").GetInt32(),
            [.. root.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble())],
            [.. root.GetProperty("steps").EnumerateArray().Select(e => e.GetInt64())],
            root.GetProperty("parameters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetDouble()).ToArray()));
    }

    public sealed record TrainResult(int WorldSize, double[] Losses, long[] Steps, Dictionary<string, double[]> Parameters);

    /// <summary>Sends a POSIX signal (SIGKILL 9, SIGSTOP 19) to the process whose id rank <paramref name="rank"/> wrote.</summary>
    public static void Signal(string output, int rank, int signal)
    {
        int pid = int.Parse(File.ReadAllText(Path.Combine(output, $"rank-{rank}.pid")));
        if (kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed");
    }

    [DllImport("libc")]
    private static extern int kill(int pid, int signal);
}
