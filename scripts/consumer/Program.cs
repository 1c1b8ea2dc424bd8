// The consumer test's application (scripts/consumer-test.sh copies this file into a fresh `dotnet new console`
// project that references the OpenVision and TorchSharp-cpu packages only). Three modes, each printing one
// "PASS"/"FAIL" line per check and exiting non-zero when any check fails:
//   parity MODELS_DIR        every reference model reproduces its expected image and text features
//   models-json FILE         `openvision models --json` output: a JSON array with the 26 OpenVision configs and more
//   classify-json FILE       `openvision classify --json` output: per image, probabilities that sum to 1
using System.Text.Json;
using OpenVision;
using OpenVision.Checkpoints;
using static TorchSharp.torch;

// The reference README's float32 bound: max|a-b| / max|b| <= 1e-4.
const double Tolerance = 1e-4;
int failed = 0, passed = 0;

void Report(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {what}");
    if (ok) passed++; else failed++;
}

static double RelativeError(Tensor actual, Tensor expected) =>
    (actual - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();

switch (args.FirstOrDefault())
{
    case "parity" when args.Length == 2:
        var folders = Directory.GetDirectories(args[1]).Where(d => File.Exists(Path.Combine(d, "expected.safetensors"))).Order().ToList();
        if (folders.Count == 0) Report(false, $"{args[1]}: no model folder with expected.safetensors");
        foreach (var folder in folders)
        {
            string name = Path.GetFileName(folder);
            var expected = SafetensorsFile.Read(Path.Combine(folder, "expected.safetensors"));
            var (model, _) = ModelFactory.Load(folder);
            using (model)
            using (no_grad())
            {
                using var pixels = expected["pixels"].ToTorch();
                using var ids = expected["text_ids"].ToTorch();
                using var wantImage = expected["image_features"].ToTorch();
                using var wantText = expected["text_features"].ToTorch();
                using var image = model.EncodeImage(pixels, normalize: false);
                using var text = model.EncodeText(ids, normalize: false);
                double imageError = RelativeError(image, wantImage), textError = RelativeError(text, wantText);
                // Negative control: the same comparison on the batch shifted by one image must fail, or the
                // check could not tell a wrong encoder from a right one.
                using var shifted = image.roll(1, 0);
                double control = RelativeError(shifted, wantImage);
                Report(imageError <= Tolerance && textError <= Tolerance && control > Tolerance,
                    $"{name}: image features {imageError:E2}, text features {textError:E2} (max|a-b|/max|b| <= {Tolerance:E0}); shifted-batch control {control:E2} (must exceed it)");
            }
        }
        // Informational: whether the package's MKL shim was found and mapped (loaded only when the library or the
        // application asks for it on an AMD processor).
        bool mapped = File.Exists("/proc/self/maps") && File.ReadAllText("/proc/self/maps").Contains("libopenvision_mkl_cpu.so");
        Console.WriteLine($"note: libopenvision_mkl_cpu.so mapped into this process: {(mapped ? "yes" : "no")}");
        break;

    case "models-json" when args.Length == 2:
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(args[1]));
            var rows = doc.RootElement.EnumerateArray().ToList();
            // OpenVision's 26 releases (openvision-*) and OpenVision 2's vision-only encoders (openvision2-*).
            bool named = rows.All(r => r.TryGetProperty("name", out var n) && n.GetString()!.StartsWith("openvision", StringComparison.Ordinal)
                                       && r.GetProperty("total_params").GetInt64() > 0);
            int v1 = rows.Count(r => r.GetProperty("name").GetString()!.StartsWith("openvision-", StringComparison.Ordinal));
            Report(v1 >= 26 && named, $"openvision models --json: {rows.Count} configs ({v1} OpenVision, 26 or more), each named openvision* with a parameter count");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            Report(false, $"openvision models --json: {args[1]} is not the expected JSON ({e.Message})");
        }
        break;

    case "classify-json" when args.Length == 2:
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(args[1]));
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                var scores = row.GetProperty("top").EnumerateArray().Select(s => s.GetProperty("probability").GetDouble()).ToList();
                double sum = scores.Sum();
                // Two labels, both listed: the softmax sums to 1 up to float32 rounding.
                Report(scores.Count == 2 && scores.All(p => p is >= 0 and <= 1) && Math.Abs(sum - 1) < 1e-5,
                    $"openvision classify: {row.GetProperty("image").GetString()}: {scores.Count} probabilities summing to {sum:F6}");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            Report(false, $"openvision classify --json: {args[1]} is not the expected JSON ({e.Message})");
        }
        break;

    default:
        Console.Error.WriteLine("usage: consumer parity MODELS_DIR | models-json FILE | classify-json FILE");
        return 2;
}
if (passed + failed == 0) Report(false, "no check ran");
return failed == 0 ? 0 : 1;
