using System.Net.Http.Json;

namespace OpenVision.Serving.Tests;

/// <summary>What every error answer must be: JSON in OpenAI's shape, with the request id of its header, a message that
/// names no .NET type, server path or stack frame.</summary>
public static class ErrorAssert
{
    public static async Task<ErrorDetail> IsJsonError(HttpResponseMessage response, int status, string? code = null)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"HTTP {(int)response.StatusCode}, expected {status}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        Assert.False(string.IsNullOrWhiteSpace(error.Message), text);
        Assert.Equal(status >= 500 ? "server_error" : "invalid_request_error", error.Type);
        if (code is not null) Assert.Equal(code, error.Code);
        Assert.Equal(error.RequestId, Assert.Single(response.Headers.GetValues("X-Request-Id")));
        IsClean(text);
        return error;
    }

    /// <summary>No .NET type names, stack frames or paths of this machine in <paramref name="text"/>.</summary>
    public static void IsClean(string text)
    {
        foreach (var leak in new[] { "System.", "Microsoft.", "OpenVision.", "Exception", "   at ", AppContext.BaseDirectory, Path.GetTempPath(), "/work/", "/home/" })
            Assert.False(text.Contains(leak, StringComparison.Ordinal), $"the answer contains '{leak}': {text}");
    }
}
