using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenVision.Training.Data.WebDataset;

/// <summary>Bash-style brace expansion of shard lists, as WebDataset's <c>braceexpand</c> does it:
/// <c>shards-{000000..000123}.tar</c>, <c>{a,b}/part-{0..9}.tar</c>, several and nested braces, and
/// <c>::</c>-separated lists of patterns.</summary>
/// <remarks>Numeric ranges keep zero padding when either end is written with a leading zero (the width of the longer
/// end), run downwards when start &gt; end and take an optional step (<c>{0..10..2}</c>). Braces that are neither a
/// range nor a comma list stay literal, as in bash.</remarks>
public static partial class BraceExpansion
{
    /// <summary>Expands <paramref name="pattern"/> into the list of names, left to right as bash orders them.</summary>
    /// <exception cref="ArgumentException">A range would produce more than a million names.</exception>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var result = new List<string>();
        foreach (string part in pattern.Split("::"))
            if (part.Length > 0) Expand(part, result);
        return result;
    }

    private static void Expand(string pattern, List<string> output)
    {
        var (open, close) = FirstGroup(pattern);
        if (open < 0)
        {
            output.Add(pattern);
            return;
        }
        string prefix = pattern[..open], body = pattern[(open + 1)..close], suffix = pattern[(close + 1)..];
        var alternatives = Alternatives(body);
        if (alternatives is null)
        {
            // Not a list or range: keep the braces literally and expand what follows them.
            var rest = new List<string>();
            Expand(suffix, rest);
            foreach (string r in rest) output.Add(prefix + "{" + body + "}" + r);
            return;
        }
        foreach (string alternative in alternatives) Expand(prefix + alternative + suffix, output);
    }

    // The first top-level {...} pair, or (-1, -1).
    private static (int Open, int Close) FirstGroup(string s)
    {
        int depth = 0, open = -1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '{') { if (depth++ == 0) open = i; }
            else if (s[i] == '}' && depth > 0 && --depth == 0) return (open, i);
        }
        return (-1, -1);
    }

    // The items a brace body stands for, or null when it is neither a range nor a comma list.
    private static List<string>? Alternatives(string body)
    {
        var range = RangePattern().Match(body);
        if (range.Success) return NumericRange(range);
        var letters = LetterRangePattern().Match(body);
        if (letters.Success)
        {
            char a = letters.Groups[1].Value[0], b = letters.Groups[2].Value[0];
            int step = a <= b ? 1 : -1;
            var items = new List<string>();
            for (int c = a; c != b + step; c += step) items.Add(((char)c).ToString());
            return items;
        }
        var parts = SplitTopLevelCommas(body);
        return parts.Count > 1 ? parts : null;
    }

    private static List<string> NumericRange(Match m)
    {
        string first = m.Groups[1].Value, last = m.Groups[2].Value;
        long a = long.Parse(first, CultureInfo.InvariantCulture), b = long.Parse(last, CultureInfo.InvariantCulture);
        long step = m.Groups[3].Success ? Math.Abs(long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)) : 1;
        if (step == 0) step = 1;
        if (Math.Abs(b - a) / step >= 1_000_000) throw new ArgumentException($"brace range {{{m.Value}}} expands to more than a million names");
        static bool Padded(string s) => s.TrimStart('-').Length > 1 && s.TrimStart('-')[0] == '0';
        int width = Padded(first) || Padded(last) ? Math.Max(first.Length, last.Length) : 0;
        var items = new List<string>();
        for (long v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step)
        {
            // Bash pads negative numbers to the same total width, minus sign included.
            string digits = Math.Abs(v).ToString(CultureInfo.InvariantCulture);
            string sign = v < 0 ? "-" : "";
            items.Add(sign + digits.PadLeft(Math.Max(0, width - sign.Length), '0'));
        }
        return items;
    }

    private static List<string> SplitTopLevelCommas(string body)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        foreach (char c in body)
        {
            if (c == ',' && depth == 0)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            if (c == '{') depth++;
            else if (c == '}') depth--;
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }

    [GeneratedRegex(@"^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$")]
    private static partial Regex RangePattern();

    [GeneratedRegex(@"^([a-zA-Z])\.\.([a-zA-Z])$")]
    private static partial Regex LetterRangePattern();
}
