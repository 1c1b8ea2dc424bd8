using System.Text;
using System.Text.Json;
using OpenVision.Text;

namespace OpenVision.Tests.Text;

/// <summary>The 600 adversarial cases of ../shared/reference/tokenizer/cases.jsonl, id for id.</summary>
public class ReferenceCasesTests
{
    [Fact]
    public void AllReferenceCasesMatchExactly()
    {
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        var cases = ReadCases();
        Assert.Equal(600, cases.Count);

        var failures = new List<string>();
        foreach (var (line, text, expected) in cases)
        {
            long[] actual = tokenizer.Encode(text);
            if (actual.AsSpan().SequenceEqual(expected)) continue;
            int at = 0;
            while (at < Math.Min(actual.Length, expected.Length) && actual[at] == expected[at]) at++;
            failures.Add($"line {line}: text {Escape(text)}\n  first difference at index {at}\n" +
                         $"  expected {Ids(expected)}\n  actual   {Ids(actual)}\n" +
                         $"  expected tokens {Tokens(tokenizer, expected)}\n  actual tokens   {Tokens(tokenizer, actual)}");
        }
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {cases.Count} reference cases differ:\n" + string.Join("\n", failures.Take(25)));
    }

    [Fact]
    public void BatchEncodingEqualsSingleEncoding()
    {
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        var cases = ReadCases();
        long[,] batch = tokenizer.EncodeBatch(cases.Select(c => c.Text).ToList());
        Assert.Equal(cases.Count, batch.GetLength(0));
        Assert.Equal(80, batch.GetLength(1));
        for (int i = 0; i < cases.Count; i++)
            for (int j = 0; j < 80; j++)
                Assert.Equal(cases[i].Ids[j], batch[i, j]);
    }

    [Fact]
    public void ConcurrentEncodingMatchesReference()
    {
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        var cases = ReadCases();
        var results = new long[cases.Count][];
        Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = tokenizer.Encode(cases[i].Text));
        for (int i = 0; i < cases.Count; i++) Assert.Equal(cases[i].Ids, results[i]);
    }

    private static List<(int Line, string Text, long[] Ids)> ReadCases()
    {
        var cases = new List<(int, string, long[])>();
        int line = 0;
        foreach (string json in File.ReadLines(ReferenceData.Path("tokenizer", "cases.jsonl")))
        {
            line++;
            using var doc = JsonDocument.Parse(json);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            long[] ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            cases.Add((line, text, ids));
        }
        return cases;
    }

    private static string Ids(long[] ids)
    {
        int end = ids.Length - 1;
        while (end > 0 && ids[end - 1] == 0) end--;   // fold the padding run before [CLS]
        return "[" + string.Join(", ", ids[..end]) + (end < ids.Length - 1 ? $", 0×{ids.Length - 1 - end}" : "") + $", {ids[^1]}]";
    }

    private static string Tokens(OpenVisionTokenizer tokenizer, long[] ids) =>
        string.Join(" ", ids.Where(id => id != OpenVisionTokenizer.PadId).Select(id => tokenizer.Decode([id], skipSpecialTokens: false)));

    // JSON-style escapes for anything that is not printable ASCII, so control and invisible characters show.
    private static string Escape(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in text)
            sb.Append(c is >= ' ' and <= '~' && c != '"' && c != '\\' ? c.ToString() : $"\\u{(int)c:X4}");
        return sb.Append('"').ToString();
    }
}
