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

    /// <summary>A new folder under this test run's temporary root (deleted when the test process exits).</summary>
    public static string TempFolder(string hint)
    {
        string folder = Path.Combine(Root, $"{hint}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string CreateRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), "openvision-onnx-tests", Environment.ProcessId.ToString());
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    }
}
