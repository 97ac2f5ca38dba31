using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

internal static class SpecPaths
{
    /// <summary>Absolute, without "..", returned with duplicate and trailing slashes removed.</summary>
    public static string RequireCleanAbsolute(string path, string field)
    {
        if (string.IsNullOrEmpty(path)) throw RuntimeException.InvalidField(field, "must not be empty");
        if (!path.StartsWith('/')) throw RuntimeException.InvalidField(field, $"\"{path}\" is not an absolute path");
        if (path.Contains('\0')) throw RuntimeException.InvalidField(field, "contains a NUL byte");
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Contains("..")) throw RuntimeException.InvalidField(field, $"\"{path}\" must not contain \"..\"");
        return "/" + string.Join('/', parts.Where(p => p != "."));
    }
}
