using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>Generated texts for Fashion-MNIST images: a terse alt-text (as web alt-text tends to be) and a varied
/// descriptive caption (standing in for a synthetic recaption), built from templates over the class name, sentences
/// about garment attributes that are true of the class, and a sentence about the image's own tone or size.</summary>
/// <remarks>The caption's sentences are joined with ". " so that the sub-caption sampling (split on <c>[.!]+</c>) has
/// several to choose from. Everything is drawn from the generator given, so texts are reproducible from a seed.</remarks>
public static class FashionMnistCaptions
{
    // Per class: alt-texts, caption nouns, attribute sentences. Attributes hold for the whole class as Zalando's
    // catalogue defines it (e.g. T-shirt/top includes sleeveless tops, so no sentence claims sleeves for it).
    private static readonly (string[] Alt, string[] Nouns, string[] Attributes)[] Classes =
    [
        (["t-shirt", "a t-shirt", "tee", "a top", "t-shirt/top"], ["t-shirt", "tee", "top"],
            ["It is worn on the upper body", "It is a casual top of light knit fabric", "It is pulled on over the head",
             "It has no buttons down the front", "It has short sleeves or no sleeves", "It has a simple round or scoop neckline"]),
        (["trouser", "a trouser", "trousers", "pants", "a pair of trousers"], ["pair of trousers", "pair of pants", "pair of trousers"],
            ["It has two legs", "It reaches from the waist down to the ankles", "It is worn on the lower body",
             "It has a waistband at the top", "It is a full-length garment for the legs", "It is long and narrow, split into two legs"]),
        (["pullover", "a pullover", "sweater", "a jumper", "knit pullover"], ["pullover", "sweater", "jumper"],
            ["It has long sleeves", "It is worn on the upper body", "It is pulled on over the head",
             "It is made of warm knitted fabric", "It has no opening down the front", "It has ribbed cuffs and a ribbed hem"]),
        (["dress", "a dress", "summer dress", "a woman's dress"], ["dress", "dress", "frock"],
            ["It is a one-piece garment", "It covers the body from the shoulders down to the legs", "It has a skirt that falls from the waist",
             "It is worn without trousers", "It is taller than it is wide", "It has a single piece of fabric from top to hem"]),
        (["coat", "a coat", "jacket coat", "winter coat"], ["coat", "jacket", "overcoat"],
            ["It has long sleeves", "It opens down the front", "It is outerwear worn over other clothes",
             "It is made of heavy fabric", "It has a collar or a hood", "It fastens with buttons or a zip"]),
        (["sandal", "a sandal", "sandals", "summer sandal"], ["sandal", "sandal", "strappy sandal"],
            ["It is open footwear", "It is held on the foot by straps", "It leaves much of the foot uncovered",
             "It has a thin sole", "It is worn in warm weather", "It is a shoe made of straps rather than a closed upper"]),
        (["shirt", "a shirt", "button shirt", "a blouse"], ["shirt", "button-up shirt", "blouse"],
            ["It usually has a collar", "It usually fastens with buttons down the front", "It is worn on the upper body",
             "It is made of woven fabric", "It has a placket down the middle", "It is a smart top for everyday wear"]),
        (["sneaker", "a sneaker", "sneakers", "trainer", "a running shoe"], ["sneaker", "trainer", "running shoe"],
            ["It is a low athletic shoe", "It has a flat rubber sole", "It laces up over the top of the foot",
             "It covers the foot but not the ankle", "It is a casual sports shoe", "It is closed footwear with a low profile"]),
        (["bag", "a bag", "handbag", "a tote bag", "purse"], ["bag", "handbag", "tote"],
            ["It has handles or a strap", "It is carried by hand or on the shoulder", "It holds belongings",
             "It is an accessory, not a garment", "It has a boxy outline", "It has a body with an opening at the top"]),
        (["ankle boot", "an ankle boot", "boot", "ankle boots", "a short boot"], ["ankle boot", "boot", "short boot"],
            ["It covers the foot and the ankle", "It has a raised heel", "It has a shaft that rises to the ankle",
             "It is closed footwear", "It is worn in cold weather", "It is a sturdy shoe that is taller than a sneaker"]),
    ];

    private static readonly string[] Openers =
    [
        "A photo of {a} {noun}", "A product photo of {a} {noun}", "A small grayscale image of {a} {noun}",
        "{A} {noun} on a black background", "This is {a} {noun}", "A picture showing {a} {noun}",
        "A catalogue image of {a} {noun}", "A low-resolution photo of {a} {noun}",
    ];

    /// <summary>The attribute sentences a caption of class <paramref name="label"/> may contain.</summary>
    public static IReadOnlyList<string> AttributeSentences(int label) => Classes[CheckLabel(label)].Attributes;

    /// <summary>The nouns a caption of class <paramref name="label"/> may name it by.</summary>
    public static IReadOnlyList<string> Nouns(int label) => Classes[CheckLabel(label)].Nouns.Distinct().ToArray();

    /// <summary>The alt-texts drawn for class <paramref name="label"/>.</summary>
    public static IReadOnlyList<string> AltTexts(int label) => Classes[CheckLabel(label)].Alt;

    /// <summary>A terse alt-text for an image of class <paramref name="label"/> (e.g. "a trouser").</summary>
    public static string AltText(int label, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var alts = Classes[CheckLabel(label)].Alt;
        return alts[random.NextInt(alts.Length)];
    }

    /// <summary>A caption of 3–5 sentences for one image: an opener naming the class, two or three attributes of the
    /// class in random order, and, when the image is clearly light, dark, large or small, a sentence saying so.</summary>
    /// <param name="label">The class.</param>
    /// <param name="pixels">The 28×28 grey image (0 = background), for the tone and size sentence.</param>
    /// <param name="random">Draws the templates and attributes.</param>
    public static string Caption(int label, ReadOnlySpan<byte> pixels, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (_, nouns, attributes) = Classes[CheckLabel(label)];
        string noun = nouns[random.NextInt(nouns.Length)];
        string article = "aeiou".Contains(noun[0]) ? "an" : "a";
        string opener = Openers[random.NextInt(Openers.Length)]
            .Replace("{a}", article).Replace("{A}", article == "an" ? "An" : "A").Replace("{noun}", noun);
        var picked = attributes.ToList();
        random.Shuffle(picked);
        var sentences = new List<string> { opener };
        sentences.AddRange(picked.Take(2 + random.NextInt(2)));
        if (AppearanceSentence(nouns[0], pixels, random) is { } appearance) sentences.Add(appearance);
        return string.Join(". ", sentences) + ".";
    }

    /// <summary>A sentence about what the pixels show (tone of the article, how much of the frame it fills), or null
    /// when the image is unremarkable. True of the image by construction.</summary>
    public static string? AppearanceSentence(string noun, ReadOnlySpan<byte> pixels, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        // Foreground: pixels clearly above the black background.
        long sum = 0;
        int foreground = 0;
        foreach (byte p in pixels)
            if (p > 16) { sum += p; foreground++; }
        if (foreground == 0) return null;
        double mean = (double)sum / foreground, fill = (double)foreground / pixels.Length;
        bool aboutTone = random.NextBool(0.5);
        if (aboutTone && mean < 90) return $"The {noun} is dark";
        if (aboutTone && mean > 170) return $"The {noun} is light in colour";
        if (fill > 0.6) return $"The {noun} fills most of the frame";
        if (fill < 0.3) return $"The {noun} takes up a small part of the frame";
        return null;
    }

    private static int CheckLabel(int label) =>
        label >= 0 && label < Classes.Length ? label : throw new ArgumentOutOfRangeException(nameof(label), label, "Fashion-MNIST labels are 0–9");
}
