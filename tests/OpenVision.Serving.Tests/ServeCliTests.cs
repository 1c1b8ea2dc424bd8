using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.Http.Json;

using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary><c>openvision serve</c> as a user starts it: a child process on a free loopback port.</summary>
public class ServeCliTests
{
    [Fact]
    public async Task ServeStartsAnswersAndStops()
    {
        await using var server = await ServeProcess.StartAsync([]);
        Assert.Equal("127.0.0.1", server.Address.Host);
        using var client = new HttpClient { BaseAddress = server.Address };
        var health = await client.GetFromJsonAsync<HealthResponse>("health");
        Assert.Equal(("ok", false), (health!.Status, health.AuthRequired));
    }

    [Fact]
    public async Task APortInUseEndsInOneErrorLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "OpenVision.Cli.dll"), "serve", "--model", ReferenceModels.Folder(ServerFixture.Model), "--port", port.ToString() })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync();
        Assert.Equal(1, process.ExitCode);
        Assert.Equal("", await stdout);
        Assert.Equal($"openvision: error: cannot listen on 127.0.0.1:{port}: the address is already in use", stderr.TrimEnd('\n'));
    }
}
