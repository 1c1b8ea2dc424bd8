using System.Diagnostics;

namespace OpenVision.Cli.Tests;

/// <summary>Runs the real CLI binary in a child process, as a user would.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunWithEnvironment(new Dictionary<string, string>(), args);

    /// <summary>Runs the CLI with extra environment variables.</summary>
    public static Result RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException("CLI did not finish: " + string.Join(' ', args)); }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the CLI without waiting (e.g. to kill it mid-run); output is redirected.</summary>
    public static Process Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Runs the CLI under the system's <c>mpirun -np <paramref name="ranks"/></c> (one torch thread per rank),
    /// as <c>mpirun -np N openvision train …</c> does for a user.</summary>
    public static Result RunUnderMpirun(int ranks, params string[] args)
    {
        string mpirun = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
        var info = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(), "-x", "OMP_NUM_THREADS=1", "dotnet",
                     Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll") }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";            // CI runs as root
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException("mpirun did not finish: " + string.Join(' ', args)); }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Process Start(IReadOnlyDictionary<string, string> environment, string[] args)
    {
        // Through env(1) with SIGINT at its default action: a test run started in the background by a non-interactive
        // shell (`./scripts/test.sh &`) inherits SIGINT ignored, which exec keeps and .NET honours, so the signal
        // tests would time out. env execs dotnet, so the pid stays the CLI's.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) info.Environment[name] = value;
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }
}
