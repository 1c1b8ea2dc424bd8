using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenVision.Lab.Benchmarks.Serving;
using OpenVision.Serving;
using OpenVision.Tests.Parity;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary>The service load benchmark runs real servers and real HTTP clients and accounts for every request;
/// figures are printed for people to read, never asserted.</summary>
public class ServeLoadBenchmarkTests
{
    private const string Model = "ovtest-mini-p16-64";
    private static readonly string[] Jpegs = ["rocket.jpg", "chelsea_q90_444.jpg", "chelsea_progressive.jpg"];

    private static string Image(string name) => OpenVision.Tests.ReferenceData.Path("preprocess", "images", name);

    private static List<Upload> Uploads() => Jpegs.Select(j => Upload.FromFile(Image(j))).ToList();

    [Fact]
    public async Task EveryRequestIsAnsweredAndCountedWithBatchingOnAndOff()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Model));
        var rows = new List<ServeLoadResult>();
        var options = new ServeLoadOptions { ClientCounts = [1, 2], Batching = [true, false], Duration = TimeSpan.FromSeconds(1), WarmupRequestsPerClient = 1, InitialWarmup = TimeSpan.FromSeconds(0.5) };
        var report = await ServeLoadBenchmark.RunAsync(encoder, Uploads(), options, new Progress(rows.Add));

        Assert.Equal((Model, encoder.ImageSize), (report.Model, report.ImageSize));
        Assert.Equal([(true, 1), (true, 2), (false, 1), (false, 2)], report.Results.Select(r => (r.Batching, r.Clients)));
        Assert.Equal(report.Results, rows);                                          // progress saw each row as it was measured
        foreach (var r in report.Results)
        {
            Assert.True(r.Requests > 0, r.ToRow());
            Assert.Equal((r.Requests, 0L), (r.Responses, r.Errors));
            Assert.Equal(r.Requests, r.ImagesEmbedded);                              // the server embedded exactly what was sent
            Assert.InRange(r.ModelCalls, 1, r.Requests);
            if (!r.Batching) Assert.Equal(r.Requests, r.ModelCalls);                 // batching off: one model call per request
            Assert.InRange(r.P50Ms, double.Epsilon, r.P99Ms);
            Assert.Equal(r.Responses / r.Seconds, r.RequestsPerSecond, 6);
            AssertRowMatches(r);
        }
    }

    [Fact]
    public async Task ARequestBudgetStopsTheRunExactly()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Model));
        var options = new ServeLoadOptions { ClientCounts = [2], Batching = [true], Duration = TimeSpan.FromMinutes(5), MaxRequests = 5, WarmupRequestsPerClient = 0, InitialWarmup = TimeSpan.Zero };
        var result = (await ServeLoadBenchmark.RunAsync(encoder, Uploads(), options)).Results.Single();
        Assert.Equal((5L, 5L, 0L, 5L), (result.Requests, result.Responses, result.Errors, result.ImagesEmbedded));
    }

    [Fact]
    public async Task BadSettingsAreRefusedByName()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Model));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ServeLoadBenchmark.RunAsync(encoder, Uploads(), new ServeLoadOptions { ClientCounts = [0] }));
        Assert.Contains("client counts", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => ServeLoadBenchmark.RunAsync(encoder, [], new ServeLoadOptions()));
        Assert.Contains("at least one image", e.Message);
    }

    [Fact]
    public void BenchServePrintsATableAndWritesJson()
    {
        string folder = Directory.CreateTempSubdirectory("openvision-bench-serve-").FullName, json = Path.Combine(folder, "report.json");
        string images = Directory.CreateDirectory(Path.Combine(folder, "images")).FullName;
        foreach (var jpeg in Jpegs) File.Copy(Image(jpeg), Path.Combine(images, jpeg));
        var (code, stdout, stderr) = RunCli("bench", "serve", "--model", ReferenceModels.Folder(Model), "--clients", "1", "2",
            "--seconds", "1", "--batching", "off", "--warmup", "1", "--warmup-seconds", "0.5", "--images", images, "--json", json);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int header = Array.FindIndex(lines, l => l.TrimEnd() == ServeLoadResult.Header.TrimEnd());
        Assert.True(header >= 0, stdout);

        var report = JsonSerializer.Deserialize<ServeLoadReport>(File.ReadAllText(json))!;
        Assert.Equal(2, report.Results.Count);
        for (int i = 0; i < report.Results.Count; i++)
        {
            var r = report.Results[i];
            Assert.Equal((false, i + 1), (r.Batching, r.Clients));
            Assert.Equal((r.Requests, 0L, r.Requests), (r.Responses, r.Errors, r.ImagesEmbedded));
            Assert.Equal(r.ToRow().TrimEnd(), lines[header + 1 + i].TrimEnd());
        }
        Directory.Delete(folder, true);
    }

    [Fact]
    public async Task AnImageTheServerRefusesFailsTheWarmupNamingTheFile()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Model));
        var options = new ServeLoadOptions { ClientCounts = [1], Batching = [false], Duration = TimeSpan.FromSeconds(1), WarmupRequestsPerClient = 2, InitialWarmup = TimeSpan.FromSeconds(0.5) };
        List<Upload> uploads = [.. Uploads().Take(1), Upload.FromFile(Image("truncated.jpg"))];
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServeLoadBenchmark.RunAsync(encoder, uploads, options));
        Assert.Contains("truncated.jpg", e.Message);
    }

    [Fact]
    public void BenchServeRefusesABadBatchingChoice()
    {
        var (code, _, stderr) = RunCli("bench", "serve", "--model", ReferenceModels.Folder(Model), "--batching", "sometimes");
        Assert.Equal(1, code);
        Assert.Contains("--batching must be on, off or both, not 'sometimes'", stderr);
    }

    // The table row reads back as the numbers it was made from (to its printed precision).
    private static void AssertRowMatches(ServeLoadResult r)
    {
        var cells = r.ToRow().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, cells.Length);
        Assert.Equal(r.Batching ? "on" : "off", cells[0]);
        Assert.Equal((r.Clients, r.Requests, r.Errors), (int.Parse(cells[1]), long.Parse(cells[2]), long.Parse(cells[3])));
        Assert.Equal(r.RequestsPerSecond, double.Parse(cells[4], CultureInfo.InvariantCulture), 0.005);
        Assert.Equal(r.P50Ms, double.Parse(cells[5], CultureInfo.InvariantCulture), 0.05);
        Assert.Equal(r.P99Ms, double.Parse(cells[6], CultureInfo.InvariantCulture), 0.05);
        Assert.Equal(r.ImagesPerCall, double.Parse(cells[7], CultureInfo.InvariantCulture), 0.005);
    }

    private static (int Code, string Stdout, string Stderr) RunCli(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException("bench serve did not finish"); }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private sealed class Progress(Action<ServeLoadResult> report) : IProgress<ServeLoadResult>
    {
        public void Report(ServeLoadResult value) => report(value);
    }
}
