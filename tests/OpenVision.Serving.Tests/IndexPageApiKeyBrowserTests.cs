using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>The page against a server with an API key, in headless Chromium: it shows the key field, is refused
/// without the key, and classifies once the key is typed (kept in the tab's sessionStorage).</summary>
public sealed class IndexPageApiKeyBrowserTests : IAsyncLifetime
{
    private const string Key = "page-test-key-7";
    private readonly OpenVisionEncoder encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
    private EmbeddingServer server = null!;
    private ChromeDriver browser = null!;

    public async Task InitializeAsync()
    {
        server = await EmbeddingServer.StartAsync(encoder, new ServeOptions { Port = 0, ApiKey = Key });
        browser = HeadlessChromium.Start();
    }

    [Fact]
    public void ThePageSendsTheKeyTypedIntoIt()
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromMinutes(1));
        browser.Navigate().GoToUrl(server.Address);
        wait.Until(d => d.FindElement(By.Id("keyrow")).Displayed);               // /health said a key is needed
        browser.FindElement(By.Id("file")).SendKeys(ServerFixture.Image("chelsea.png"));
        browser.FindElement(By.Id("go")).Click();
        string refused = wait.Until(d => d.FindElement(By.Id("error")).Text is { Length: > 0 } t ? t : null)!;
        Assert.Contains("needs an API key", refused);                              // the negative control: no key, no answer

        browser.FindElement(By.Id("key")).SendKeys(Key);
        browser.FindElement(By.Id("go")).Click();
        wait.Until(d => d.FindElements(By.CssSelector("#results tr")).Count == 3);  // the page's default labels
        Assert.Equal("", browser.FindElement(By.Id("error")).Text);
        Assert.Equal(Key, ((IJavaScriptExecutor)browser).ExecuteScript("return sessionStorage.getItem('openvision-api-key')"));
    }

    public async Task DisposeAsync()
    {
        browser.Quit();
        await server.DisposeAsync();
        encoder.Dispose();
    }
}
