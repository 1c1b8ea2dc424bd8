using System.Globalization;
using System.Net.Http.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace OpenVision.Serving.Tests;

/// <summary>The page at <c>/</c> in a real headless browser against a real server: what it shows equals what the API answers.</summary>
public sealed class IndexPageBrowserTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private static readonly string[] Labels = ["a cat", "a rocket", "a horse", "a teapot"];
    private readonly ChromeDriver browser = HeadlessChromium.Start();

    [Fact]
    public async Task ProbabilitiesOnThePageEqualTheClassifyAnswer()
    {
        string image = ServerFixture.Image("chelsea.png");
        OpenPage();
        browser.FindElement(By.Id("go")).Click();                          // nothing chosen yet
        Assert.Equal("choose an image first", WaitForText(By.Id("error")));

        browser.FindElement(By.Id("file")).SendKeys(image);
        var labels = browser.FindElement(By.Id("labels"));
        labels.Clear();
        labels.SendKeys(string.Join(", ", Labels));
        browser.FindElement(By.Id("go")).Click();
        var shown = WaitForRows(Labels.Length);
        Screenshot("index-page-classified.png");

        var response = await fixture.Client.PostAsJsonAsync("classify", new { image = Convert.ToBase64String(File.ReadAllBytes(image)), labels = Labels });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var expected = (await response.Content.ReadFromJsonAsync<ClassifyResponse>())!.Results[0];
        Assert.Equal(expected.Select(s => s.Label), shown.Select(s => s.Label));
        foreach (var (label, percent) in shown)
        {
            double api = 100 * expected.Single(s => s.Label == label).Probability;
            // The page shows one decimal: the shown value is the API's rounded, so they differ by at most half a step.
            Assert.True(Math.Abs(percent - api) <= 0.05 + 1e-9, $"{label}: page {percent} %, API {api:F4} %");
        }
        Assert.Equal("", browser.FindElement(By.Id("error")).Text);
    }

    [Fact]
    public void ANonImageFileShowsWhatIsWrongWithIt()
    {
        string folder = Directory.CreateTempSubdirectory("openvision-page-").FullName;
        try
        {
            string notes = Path.Combine(folder, "notes.txt");
            File.WriteAllText(notes, "these are notes, not a picture");
            OpenPage();
            browser.FindElement(By.Id("file")).SendKeys(notes);
            browser.FindElement(By.Id("go")).Click();
            string error = WaitForText(By.Id("error"));
            Screenshot("index-page-error.png");
            Assert.Contains("notes.txt", error);
            Assert.Contains("unknown image format", error);
            Assert.Empty(browser.FindElements(By.CssSelector("#results tr")));
        }
        finally { Directory.Delete(folder, true); }
    }

    private void OpenPage()
    {
        browser.Navigate().GoToUrl(fixture.Server.Address);
        Assert.StartsWith(ServerFixture.Model, WaitForText(By.Id("model")));  // the page read /health
    }

    private string WaitForText(By by) => Wait().Until(d => d.FindElement(by).Text is { Length: > 0 } text ? text : null)!;

    // Rows of the results table as (label, percent shown), once the page has drawn them all.
    private List<(string Label, double Percent)> WaitForRows(int count) => Wait().Until(d =>
    {
        if (d.FindElement(By.Id("error")).Text is { Length: > 0 } error) throw new InvalidOperationException($"the page shows an error: {error}");
        var rows = d.FindElements(By.CssSelector("#results tr"));
        if (rows.Count < count) return null;
        return rows.Select(row =>
        {
            var cells = row.FindElements(By.TagName("td"));
            string percent = cells[1].Text;
            Assert.EndsWith(" %", percent);
            return (cells[0].Text, double.Parse(percent[..^2], CultureInfo.InvariantCulture));
        }).ToList();
    })!;

    private WebDriverWait Wait() => new(browser, TimeSpan.FromMinutes(1));

    private void Screenshot(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, name);
        browser.GetScreenshot().SaveAsFile(path);
        byte[] head = File.ReadAllBytes(path)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, head);
    }

    public void Dispose() => browser.Quit();
}
