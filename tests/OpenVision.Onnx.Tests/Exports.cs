using OpenVision.IO;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests;

/// <summary>Exports shared by tests: each reference model is exported once per test run into a temporary folder.</summary>
public static class Exports
{
    private static readonly Dictionary<string, (string Folder, OnnxManifest Manifest)> Cache = new();

    /// <summary>The reference model <paramref name="name"/> exported with float16 and int8 variants and image tokens.</summary>
    public static (string Folder, OnnxManifest Manifest) Reference(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var cached)) return cached;
            string folder = TempFolder("ref-" + name);
            var (model, _) = ModelFactory.Load(ReferenceModels.Folder(name));
            using (model)
            {
                var manifest = OnnxExporter.Export(model, folder, new OnnxExportOptions { Float16 = true, Int8 = true, ImageTokens = true });
                return Cache[name] = (folder, manifest);
            }
        }
    }

    private static readonly string Root = CreateRoot();

    /// <summary>A new folder under this test run's temporary root (deleted when the test process exits, or by the next run).</summary>
    public static string TempFolder(string hint)
    {
        string folder = Path.Combine(Root, $"{hint}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    // The test host is often stopped without its exit handlers running; the next run deletes the roots of runs whose
    // process is gone (each holds 100-200 MB of exports).
    private static string CreateRoot()
    {
        string root = ProcessTempFolder.Create("run", Path.Combine(Path.GetTempPath(), "openvision-onnx-tests"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    }
}
