using System.Security.Cryptography;
using System.Text;

namespace OpenVision.Serving;

/// <summary>Checks <c>Authorization: Bearer KEY</c> against the configured key in constant time: both sides are hashed
/// with SHA-256 first, so the comparison takes the same time whatever the length or the first wrong byte.</summary>
internal sealed class ApiKeyCheck(string key)
{
    private readonly byte[] expected = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Null when the header carries the key; otherwise the code and message of the 401.</summary>
    public (string Code, string Message)? Refusal(string? authorization)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(authorization)) return ("missing_api_key", "this server needs an API key: send 'Authorization: Bearer <key>'");
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return ("invalid_authorization", "the Authorization header must be 'Bearer <key>'");
        byte[] given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, expected) ? null : ("invalid_api_key", "the API key is not valid");
    }
}
