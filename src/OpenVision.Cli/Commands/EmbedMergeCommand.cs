using System.CommandLine;
using System.Text.Json;
using OpenVision.IO;
using OpenVision.Lab.Sharding;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision embed-merge FOLDER [--output OUT.(safetensors|npy)]</c>: checks that every shard of a sharded
/// embedding job is complete (reporting missing and corrupt ones, exit code 1) and joins them into one output.</summary>
internal static class EmbedMergeCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "The --output folder of the sharded embed workers" };
        var output = new Option<string?>("--output", "-o") { Description = "Merged OUT.safetensors or OUT.npy (keys in OUT.keys.txt); omit to only check" };
        var command = new Command("embed-merge", "Check and merge the shards of a sharded embedding job") { folder, output };
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--output", r.GetValue(output));
            string dir = r.GetValue(folder)!;
            RequireReadablePlan(dir);
            var report = r.GetValue(output) is { } path ? ShardedEmbedding.Merge(dir, path) : new ShardStore(dir).Check();
            Console.WriteLine($"{report.Complete.Count} of {report.Plan.Shards} shards complete");
            if (report.Missing.Count > 0) Console.WriteLine($"missing: {string.Join(", ", report.Missing)}");
            foreach (var (shard, problem) in report.Corrupt) Console.WriteLine($"corrupt: shard {shard}: {problem}");
            if (!report.IsComplete) return CliErrors.Fail("the job is not complete; rerun the workers (finished shards are skipped)", 1);
            if (r.GetValue(output) is { } merged) Console.WriteLine($"wrote {merged} and {merged}.keys.txt");
            return 0;
        }));
        return command;
    }

    // A damaged plan would otherwise surface as the JSON reader's message without the file's name.
    private static void RequireReadablePlan(string folder)
    {
        string plan = Path.Combine(folder, "plan.json");
        if (!File.Exists(plan)) return;
        try { using var _ = JsonDocument.Parse(InputFile.ReadAllBytes(plan, 1 << 20)); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{plan}: corrupt job plan (not valid JSON at line {e.LineNumber + 1}); it is written once by the first worker: "
                + "remove the folder and rerun the workers");
        }
    }
}
