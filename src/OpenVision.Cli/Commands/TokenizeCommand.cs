using System.CommandLine;
using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.IO;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision tokenize --model M [TEXT…] [--jsonl FILE] --output IDS.npy</c>.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var texts = new Argument<string[]>("text") { Description = "Texts to tokenize", Arity = ArgumentArity.ZeroOrMore };
        var jsonl = new Option<string?>("--jsonl") { Description = "A file with one JSON string per line" };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the [N, context] int64 ids (.npy)", Required = true };
        var command = new Command("tokenize", "Turn texts into the model's token ids") { texts, jsonl, output };
        args.AddTo(command, withWeights: false);
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(args.Model)!, r.GetValue(texts) ?? [], r.GetValue(jsonl), r.GetValue(output)!)));
        return command;
    }

    private static int Run(string reference, string[] texts, string? jsonl, string output)
    {
        var all = texts.ToList();
        if (jsonl is not null) all.AddRange(ReadJsonl(jsonl));
        if (all.Count == 0) throw new ArgumentException("no texts: give TEXT arguments or --jsonl FILE");
        var (config, _) = ModelFactory.Resolve(reference, configOnly: true);
        var tokenizer = OpenVisionEncoder.CreateTokenizer(config);
        var ids = tokenizer.EncodeBatch(all);
        var bytes = new byte[ids.Length * sizeof(long)];
        Buffer.BlockCopy(ids, 0, bytes, 0, bytes.Length);
        NpyFile.Write(output, new TensorData(TensorDType.I64, [ids.GetLength(0), ids.GetLength(1)], bytes));
        Console.WriteLine($"wrote {output}: {ids.GetLength(0)} x {ids.GetLength(1)} int64 ids");
        return 0;
    }

    private static IEnumerable<string> ReadJsonl(string path)
    {
        int number = 0;
        foreach (var line in InputFile.ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            string? text;
            try { text = JsonSerializer.Deserialize<string>(line); }
            catch (JsonException e) { throw new FormatException($"{path}:{number}: not a JSON string ({e.Message})"); }
            yield return text ?? throw new FormatException($"{path}:{number}: null is not a text");
        }
    }
}
