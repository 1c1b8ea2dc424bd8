using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace OpenVision.Serving.Tests;

/// <summary>The page's search in a real headless browser against a server with an index and an API key: the grid
/// shows what <c>POST /v1/search</c> answers, with the indexed images as thumbnails.</summary>
public sealed class SearchPageBrowserTests(SearchServerFixture fixture) : IClassFixture<SearchServerFixture>, IDisposable
{
    private readonly ChromeDriver browser = HeadlessChromium.Start();

    [Fact]
    public async Task TextSearchShowsTheApiMatchesWithThumbnails()
    {
        OpenPageWithKey();
        browser.FindElement(By.Id("search-go")).Click();                    // nothing typed yet
        Assert.Equal("type a text to search for first", WaitForText(By.Id("search-error")));

        browser.FindElement(By.Id("query")).SendKeys("a photo of a cat");
        browser.FindElement(By.Id("search-go")).Click();
        var shown = WaitForMatches(SearchServerFixture.Images.Length);
        Wait().Until(d => true.Equals(((IJavaScriptExecutor)d).ExecuteScript(
            "return [...document.querySelectorAll('.match img')].every(i => i.complete && i.naturalWidth > 0)")));
        Screenshot("index-page-search.png");

        var response = await fixture.Client.PostAsJsonAsync("v1/search", new { query = "a photo of a cat", top_k = 12 });
        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(data.Select(d => Path.GetFileName(d.GetProperty("key").GetString())), shown.Select(s => s.Name));
        for (int i = 0; i < data.Count; i++)
            // The page shows four decimals: the shown value is the API's rounded, so they differ by at most half a step.
            Assert.True(Math.Abs(shown[i].Score - data[i].GetProperty("score").GetDouble()) <= 0.00005 + 1e-9, $"match {i}");
    }

    [Fact]
    public void AnImageFindsItselfFirst()
    {
        OpenPageWithKey();
        browser.FindElement(By.Id("search-file")).SendKeys(ServerFixture.Image("rocket.jpg"));
        var shown = WaitForMatches(SearchServerFixture.Images.Length);
        Screenshot("index-page-search-image.png");
        Assert.Equal("rocket.jpg", shown[0].Name);
        Assert.True(shown[0].Score >= 0.9999, $"score {shown[0].Score}");
    }

    private void OpenPageWithKey()
    {
        browser.Navigate().GoToUrl(fixture.Server.Address);
        var key = Wait().Until(d => d.FindElement(By.Id("key")) is { Displayed: true } k ? k : null)!;
        key.SendKeys(SearchServerFixture.Key + Keys.Tab);                  // the change event starts the search section
        Assert.StartsWith("Search 6 images", WaitForText(By.CssSelector("#search h2")));
    }

    private List<(string Name, double Score)> WaitForMatches(int count) => Wait().Until(d =>
    {
        if (d.FindElement(By.Id("search-error")).Text is { Length: > 0 } error) throw new InvalidOperationException($"the page shows an error: {error}");
        var figures = d.FindElements(By.CssSelector("#matches .match"));
        if (figures.Count < count) return null;
        return figures.Select(f => (f.FindElement(By.ClassName("key")).Text,
            double.Parse(f.FindElement(By.ClassName("score")).Text, CultureInfo.InvariantCulture))).ToList();
    })!;

    private string WaitForText(By by) => Wait().Until(d => d.FindElements(by).FirstOrDefault()?.Text is { Length: > 0 } text ? text : null)!;

    private WebDriverWait Wait() => new(browser, TimeSpan.FromMinutes(1));

    private void Screenshot(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, name);
        browser.GetScreenshot().SaveAsFile(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, File.ReadAllBytes(path)[..8]);
    }

    public void Dispose() => browser.Quit();
}
