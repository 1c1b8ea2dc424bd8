using System.CommandLine;
using OpenVision.Configs;
using OpenVision.Native;
using OpenVision.Lab.Benchmarks;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench bf16-ops</c>: each vision-block operation timed in float32 and bfloat16 at the model's
/// shapes, with its share of the block and the bf16/fp32 ratio of the linear layers, of the rest, and of the block.</summary>
internal static class BenchBFloat16Command
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models") { Description = "Built-in model names", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["openvision-vit-tiny-patch16-224", "openvision-vit-base-patch16-224"] };
        var batchSizes = new Option<int[]>("--batch-sizes") { Description = "Batch sizes", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 8, 32] };
        var seconds = new Option<double>("--seconds") { Description = "Time budget per operation and dtype (the median call is kept)", DefaultValueFactory = _ => 0.5 };
        var command = new Command("bf16-ops", "Where bfloat16's speed-up goes: each vision-block operation timed in float32 and bfloat16 at the model's shapes")
            { models, batchSizes, seconds };
        command.SetAction(r => CliErrors.Run(() =>
        {
            Console.WriteLine($"fp32 vision blocks: {Float32Kernels.Status}; bf16 linear layers: {BFloat16Kernels.Status}");
            foreach (string name in r.GetValue(models)!)
            {
                if (!ModelRegistry.TryGet(name, out var config)) throw new ArgumentException($"unknown built-in model '{name}' (see 'openvision models')");
                foreach (int batch in r.GetValue(batchSizes)!)
                {
                    var rows = BFloat16Breakdown.Measure(config!, batch, TimeSpan.FromSeconds(r.GetValue(seconds)));
                    double fp32 = BFloat16Breakdown.BlockMs(rows, false), bf16 = BFloat16Breakdown.BlockMs(rows, true);
                    Console.WriteLine($"{name}, batch {batch}, one block (× {config!.VisionCfg.Layers}):");
                    Console.WriteLine($"  {"operation",-30} {"calls",5} {"fp32 ms",9} {"bf16 ms",9} {"bf16 speed-up",14} {"share of fp32",14}");
                    foreach (var row in rows)
                        Console.WriteLine($"  {row.Op,-30} {row.PerBlock,5} {row.Float32Ms,9:F3} {row.BFloat16Ms,9:F3} {row.SpeedUp,13:F2}x {row.PerBlock * row.Float32Ms / fp32,13:P0}");
                    var linear = rows.Where(x => x.IsLinear).ToList();
                    var rest = rows.Where(x => !x.IsLinear).ToList();
                    Console.WriteLine($"  linear layers {BFloat16Breakdown.BlockMs(linear, false) / BFloat16Breakdown.BlockMs(linear, true):F2}x, "
                        + $"the rest {BFloat16Breakdown.BlockMs(rest, false) / BFloat16Breakdown.BlockMs(rest, true):F2}x, block {fp32 / bf16:F2}x");
                    var (wholeFp32, wholeBf16) = BFloat16Breakdown.WholeBlock(config, batch, TimeSpan.FromSeconds(r.GetValue(seconds)));
                    Console.WriteLine($"  the block as the model runs it (fp32: {(Float32Kernels.Available ? "one native call" : "libtorch")}, bf16: {(BFloat16Kernels.Available ? "one native call" : "libtorch")}): "
                        + $"fp32 {wholeFp32:F3} ms, bf16 {wholeBf16:F3} ms, {wholeFp32 / wholeBf16:F2}x");
                }
            }
            return 0;
        }));
        return command;
    }
}
