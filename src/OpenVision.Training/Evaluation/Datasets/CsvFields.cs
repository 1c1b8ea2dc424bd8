using System.Text;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>Splits one CSV line into fields (RFC 4180 quoting: "a,b" and doubled quotes), so image paths may
/// contain commas. Multi-line quoted fields are not supported: one record per line.</summary>
internal static class CsvFields
{
    public static List<string> Split(string line, char separator = ',')
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == separator) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>Tab for .tsv files, comma otherwise.</summary>
    public static char SeparatorFor(string path) =>
        Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
}
