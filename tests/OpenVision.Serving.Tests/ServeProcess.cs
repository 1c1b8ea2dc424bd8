using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary><c>openvision serve</c> in a child process, as a user or an orchestrator runs it: started on a free port,
/// ready once <c>/health</c> answers, stopped with real signals. Its stderr is collected for the assertions.</summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder stderr = new();
    private readonly Task stderrDone;

    private ServeProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
        stderrDone = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line) lock (stderr) stderr.AppendLine(line);
        });
    }

    public Uri Address { get; }

    public int Id => process.Id;

    /// <summary>Everything the server wrote to stderr so far (all of it once it has exited).</summary>
    public string Stderr { get { lock (stderr) return stderr.ToString(); } }

    /// <summary>Starts the server over the test model with <paramref name="extra"/> arguments and waits until it is healthy.</summary>
    public static async Task<ServeProcess> StartAsync(IEnumerable<string> extra, IDictionary<string, string>? environment = null)
    {
        // SIGINT at its default action (env(1) then execs dotnet, same pid): a test run started in the background by a
        // non-interactive shell inherits SIGINT ignored, which exec keeps and .NET honours.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll"), "serve", "--model", ReferenceModels.Folder(ServerFixture.Model), "--port", "0" })
            info.ArgumentList.Add(a);
        foreach (var a in extra) info.ArgumentList.Add(a);
        info.Environment.Remove("OPENVISION_API_KEY");                       // only what the test gives
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = Process.Start(info)!;
        string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(3));
        if (line is null || !line.StartsWith($"serving {ServerFixture.Model}", StringComparison.Ordinal))
        {
            process.Kill(true);
            throw new InvalidOperationException($"serve did not start: '{line}'\n{await process.StandardError.ReadToEndAsync()}");
        }
        var listening = new Uri(line[(line.IndexOf(" on ", StringComparison.Ordinal) + 4)..line.IndexOf(" (Ctrl", StringComparison.Ordinal)]);
        // A wildcard address is reached through loopback.
        var address = new UriBuilder(listening) { Host = listening.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : listening.Host }.Uri;
        var server = new ServeProcess(process, address);
        using var client = new HttpClient { BaseAddress = address };
        Assert.Equal("ok", (await client.GetFromJsonAsync<HealthResponse>("health"))!.Status);
        return server;
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, INT, ...) with the system's kill(1), as a shell or an orchestrator would.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-s", signal, process.Id.ToString() }, UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>The exit code once the process has exited; a hang guard, not a speed check: a server that ignores the
    /// signal fails here instead of hanging the suite.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(guard.Token); }
        catch (OperationCanceledException) { Assert.Fail($"serve (pid {process.Id}) had not exited 3 minutes after the signal\n{Stderr}"); }
        await stderrDone;
        return process.ExitCode;
    }

    /// <summary>Asserts that stderr holds no exception or stack trace.</summary>
    public void AssertNoExceptionLogged()
    {
        string text = Stderr;
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("   at ", text);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
