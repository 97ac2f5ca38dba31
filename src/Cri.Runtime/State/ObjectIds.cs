using System.Security.Cryptography;

namespace Crisp.Runtime.State;

/// <summary>Sandbox and container ids: 64 random hex digits, like containerd and CRI-O.</summary>
public static class ObjectIds
{
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The id, when it can name a file or directory of its own; InvalidArgument naming the field otherwise.</summary>
    public static string RequireFileNameSafe(string id, string field)
    {
        if (id.Length == 0 || id.Contains('/') || id.Contains("..", StringComparison.Ordinal))
            throw Api.RuntimeException.InvalidField(field, $"\"{id}\" is not a valid id");
        return id;
    }

    /// <summary>
    /// Resolves a full id or a unique prefix against the known ids (crictl passes truncated ids).
    /// Returns null when nothing matches; throws when the prefix is ambiguous.
    /// </summary>
    public static string? Resolve(string idOrPrefix, IEnumerable<string> ids, string kind)
    {
        if (string.IsNullOrEmpty(idOrPrefix)) return null;
        string? found = null;
        foreach (var id in ids)
        {
            if (id == idOrPrefix) return id;
            if (!id.StartsWith(idOrPrefix, StringComparison.Ordinal)) continue;
            if (found is not null)
                throw new Api.RuntimeException(Api.RuntimeErrorKind.InvalidArgument,
                    $"{kind} id prefix \"{idOrPrefix}\" is ambiguous: it matches {found} and {id}");
            found = id;
        }
        return found;
    }
}
