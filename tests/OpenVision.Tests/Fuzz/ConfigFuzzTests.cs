using System.Text.Json.Nodes;
using OpenVision.Configs;
using Xunit.Abstractions;

namespace OpenVision.Tests.Fuzz;

/// <summary>Seeded JSON mutations of every built-in config: each either parses into a config that passes validation
/// (and whose parameter count is within <see cref="ConfigLimits.MaxParameters"/>) or is refused with a one-line
/// <see cref="ConfigException"/> naming the config, never another exception.</summary>
public sealed class ConfigFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] NumberKeys = ["embed_dim", "width", "layers", "head_width", "heads", "mlp_ratio", "image_size", "patch_size",
        "context_length", "vocab_size", "in_channels", "eps"];

    private static readonly JsonNode?[] Values = [0, -1, 1, 7, 1e9, 1_000_000_000, 2_147_483_647, 1.5, 1e300, -1e-9, 4097, 16_385, 65, "16", null, true,
        new JsonArray(1, 2), new JsonArray(224, 225), new JsonObject()];

    [Fact]
    public void MutatedConfigsAreValidOrRefusedByField()
    {
        var tally = new FuzzTally();
        var random = new Random(77);
        foreach (var name in ModelRegistry.Names)
        {
            string json = ConfigJson.ToHubJson(ModelRegistry.Get(name));
            for (int i = 0; i < 40; i++)
            {
                var (kind, text) = Mutate(json, random);
                tally.Add(kind, Classify(text, $"{name}#{i}", out string? detail), detail);
            }
        }
        output.WriteLine(tally.Table("valid"));
        Assert.True(tally.Total >= 26 * 40);
        Assert.Empty(tally.Others);
    }

    [Fact]
    public void EveryBuiltInConfigIsWithinTheLimits()
    {
        foreach (var name in ModelRegistry.Names)
        {
            var config = ModelRegistry.Get(name);
            Assert.Empty(config.Problems());
            Assert.True(ParameterCounter.Total(config) < ConfigLimits.MaxParameters, name);
        }
    }

    [Theory]
    [InlineData("vision_cfg", "width", 1_000_000_000, "vision_cfg.width 1000000000 is over the limit of 16,384")]
    [InlineData("vision_cfg", "layers", 1_000_000_000, "vision_cfg.layers 1000000000 is over the limit of 1,024")]
    [InlineData("vision_cfg", "image_size", 1_000_000, "vision_cfg.image_size 1000000 is over the limit of 4,096")]
    [InlineData("vision_cfg", "mlp_ratio", 1e9, "vision_cfg.mlp_ratio 1000000000 is over the limit of 64")]
    [InlineData("text_cfg", "context_length", 1_000_000_000, "text_cfg.context_length 1000000000 is over the limit of 4,096")]
    [InlineData("text_cfg", "vocab_size", 2_000_000, "text_cfg.vocab_size 2000000 is over the limit of 1,000,000")]
    public void HugeSizesAreRefusedWithTheLimit(string block, string key, double value, string expected)
    {
        var root = JsonNode.Parse(ConfigJson.ToHubJson(ModelRegistry.Get("openvision-vit-tiny-patch16-224")))!;
        root["model_cfg"]![block]![key] = value == Math.Floor(value) && value < int.MaxValue ? JsonValue.Create((int)value) : JsonValue.Create(value);
        var error = Assert.Throws<ConfigException>(() => ConfigJson.Parse(root.ToJsonString(), "big.json"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ManySmallSizesTogetherAreRefusedByTheParameterEstimate()
    {
        var root = JsonNode.Parse(ConfigJson.ToHubJson(ModelRegistry.Get("openvision-vit-tiny-patch16-224")))!;
        root["model_cfg"]!["vision_cfg"]!["width"] = 16_384;
        root["model_cfg"]!["vision_cfg"]!["head_width"] = 64;
        root["model_cfg"]!["vision_cfg"]!["layers"] = 1_024;
        var error = Assert.Throws<ConfigException>(() => ConfigJson.Parse(root.ToJsonString(), "wide.json"));
        Assert.Contains("over the limit of 10,000,000,000", error.Message);
    }

    [Fact]
    public void DuplicateKeysAreNamed()
    {
        string json = ConfigJson.ToHubJson(ModelRegistry.Get("openvision-vit-tiny-patch16-224")).Replace("\"embed_dim\"", "\"embed_dim\": 384, \"embed_dim\"");
        var error = Assert.Throws<ConfigException>(() => ConfigJson.Parse(json, "dup.json"));
        Assert.Contains("duplicate key 'embed_dim'", error.Message);
    }

    private static int Classify(string text, string name, out string? detail)
    {
        detail = null;
        try
        {
            var config = ConfigJson.Parse(text, name);
            if (ParameterCounter.Total(config) > ConfigLimits.MaxParameters) { detail = $"{name}: accepted {ParameterCounter.Total(config):N0} parameters"; return 2; }
            return 0;
        }
        catch (ConfigException e) when (e.Message.StartsWith(name + ": ", StringComparison.Ordinal) && !e.Message.Contains('\n')
                                        && !e.Message.Contains("System.", StringComparison.Ordinal))
        {
            return 1;
        }
        catch (Exception e)
        {
            detail = $"{name}: {e.GetType().Name}: {e.Message}";
            return 2;
        }
    }

    private static (string Kind, string Text) Mutate(string json, Random random)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var model = root["model_cfg"]!.AsObject();
        // OpenVision 2's vision-only configs have no text_cfg block.
        JsonObject[] blocks = model["text_cfg"] is JsonObject textBlock ? [model, model["vision_cfg"]!.AsObject(), textBlock] : [model, model["vision_cfg"]!.AsObject()];
        var block = blocks[random.Next(blocks.Length)];
        switch (random.Next(6))
        {
            case 0:
                block[NumberKeys[random.Next(NumberKeys.Length)]] = Values[random.Next(Values.Length)]?.DeepClone();
                return ("value replaced", root.ToJsonString());
            case 1:
                var keys = block.Select(kv => kv.Key).ToList();
                block.Remove(keys[random.Next(keys.Count)]);
                return ("key removed", root.ToJsonString());
            case 2:
                block["no_such_key_" + random.Next(10)] = 1;
                return ("unknown key", root.ToJsonString());
            case 3:
                string text = root.ToJsonString();
                int at = random.Next(text.Length);
                return ("text truncated or garbled", random.Next(2) == 0 ? text[..at] : text[..at] + (char)random.Next(32, 127) + text[(at + 1)..]);
            case 4:
                var existing = block.Select(kv => kv.Key).ToList();
                string key = existing[random.Next(existing.Count)];
                string s = root.ToJsonString();
                int index = s.IndexOf($"\"{key}\":", StringComparison.Ordinal);
                return ("duplicate key", s[..index] + $"\"{key}\":{Values[random.Next(Values.Length)]?.ToJsonString() ?? "null"}," + s[index..]);
            default:
                foreach (var k in NumberKeys.Where(k => block.ContainsKey(k) && random.Next(3) == 0)) block[k] = random.Next(-2, 70_000);
                return ("several sizes", root.ToJsonString());
        }
    }
}
