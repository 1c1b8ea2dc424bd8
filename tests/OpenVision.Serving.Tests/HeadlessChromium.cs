using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace OpenVision.Serving.Tests;

/// <summary>Debian's chromium driven headless through its chromedriver; the paths are fixed so Selenium never looks
/// for (or downloads) a browser or driver of its own.</summary>
public static class HeadlessChromium
{
    public const string Browser = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    /// <summary>Starts a headless browser, or fails (never skips) saying how to install what is missing.</summary>
    public static ChromeDriver Start()
    {
        var missing = new[] { Browser, Driver }.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            Assert.Fail($"the browser test needs {string.Join(" and ", missing)}: install them with `apt-get install -y chromium chromium-driver` " +
                "(listed in .ci/apt-packages.txt, which CI installs)");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Browser };
        // --no-sandbox: CI runs as root, where chromium refuses its sandbox; --disable-dev-shm-usage: containers have a tiny /dev/shm.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1000,1000");
        return new ChromeDriver(service, options, TimeSpan.FromMinutes(2));
    }
}
