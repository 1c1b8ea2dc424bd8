using System.Diagnostics;
using System.Net.Http.Json;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary><c>openvision serve</c> as a user starts it: a child process on a free loopback port.</summary>
public class ServeCliTests
{
    [Fact]
    public async Task ServeStartsAnswersAndStops()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll"), "serve", "--model", ReferenceModels.Folder(ServerFixture.Model), "--port", "0" })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.NotNull(line);
            Assert.StartsWith($"serving {ServerFixture.Model}", line);
            var address = new Uri(line![(line.IndexOf(" on ", StringComparison.Ordinal) + 4)..line.IndexOf(" (Ctrl", StringComparison.Ordinal)]);
            Assert.Equal("127.0.0.1", address.Host);
            using var client = new HttpClient { BaseAddress = address };
            var health = await client.GetFromJsonAsync<HealthResponse>("health");
            Assert.Equal("ok", health!.Status);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
