using System.Diagnostics;
using System.Text.Json;

namespace OpenVision.Serving.Tests;

/// <summary>The official <c>openai</c> npm package (v7) under Node, installed on first use into a temp folder that the
/// fixture deletes when its test class is done (the package is about 35 MB); <c>Clients/embeddings.mjs</c> calls
/// <c>embeddings.create</c> and prints what the client returned.</summary>
public sealed class NodeOpenAiClient : IDisposable
{
    private readonly Lazy<string> package;
    private string? folder;

    /// <summary>Installs nothing yet: the first <see cref="Embeddings"/> call does.</summary>
    public NodeOpenAiClient() => package = new(Install);

    /// <summary>Runs the script; the answer is its JSON (embeddings and usage, or status and message on an error).</summary>
    public JsonElement Embeddings(Uri server, string key, string model, object input, string? encodingFormat)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(AppContext.BaseDirectory, "Clients", "embeddings.mjs")])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["OPENAI_PACKAGE"] = package.Value;
        start.Environment["BASE_URL"] = new Uri(server, "v1").ToString();
        start.Environment["API_KEY"] = key;
        start.Environment["MODEL"] = model;
        // Images as data: URLs outgrow what an environment variable may hold, so the input travels in a file.
        string inputFile = Path.GetTempFileName();
        File.WriteAllText(inputFile, JsonSerializer.Serialize(input));
        start.Environment["INPUT_FILE"] = inputFile;
        start.Environment["ENCODING_FORMAT"] = encodingFormat ?? "";
        int code;
        string output, error;
        try { (code, output, error) = Run(start, TimeSpan.FromMinutes(2)); }
        finally { File.Delete(inputFile); }
        Assert.True(code == 0, $"node embeddings.mjs exited {code}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>Deletes the installed package, if any.</summary>
    public void Dispose()
    {
        if (folder is null) return;
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { } // a file still open: the temp folder's usual cleanup takes it later
        catch (UnauthorizedAccessException) { }
    }

    private string Install()
    {
        folder = Directory.CreateTempSubdirectory("openvision-npm-").FullName;
        var start = new ProcessStartInfo("npm", ["install", "--prefix", folder, "--no-audit", "--no-fund", "openai@7"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        int code;
        string error;
        try { (code, _, error) = Run(start, TimeSpan.FromMinutes(5)); }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("these tests need Node.js 20 and npm on PATH (Debian: apt-get install -y nodejs npm); they install the `openai` npm package themselves");
            throw;
        }
        Assert.True(code == 0, $"`npm install openai@7` failed (it needs the npm registry): {error}");
        return folder;
    }

    private static (int Code, string Output, string Error) Run(ProcessStartInfo start, TimeSpan limit)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit)) { process.Kill(true); Assert.Fail($"{start.FileName} did not finish within {limit}"); }
        return (process.ExitCode, output.Result, error.Result);
    }
}
