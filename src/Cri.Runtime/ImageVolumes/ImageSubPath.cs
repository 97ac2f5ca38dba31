using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;

namespace Crisp.Runtime.ImageVolumes;

/// <summary>
/// Mount.image_sub_path: a directory or file inside the image that is mounted instead of the image's root. It is
/// relative and never names "..": checked as text before anything is made, then resolved with the image's own
/// symlinks followed inside the image root (a link to "/etc" means the image's /etc, never the host's).
/// </summary>
public static class ImageSubPath
{
    /// <summary>Refuses a sub-path that is absolute, climbs with "..", or holds a NUL byte; empty means the image root.</summary>
    public static void Validate(string subPath, string field)
    {
        if (string.IsNullOrEmpty(subPath)) return;
        if (subPath.Contains('\0')) throw RuntimeException.InvalidField(field, "contains a NUL byte");
        if (subPath.StartsWith('/')) throw RuntimeException.InvalidField(field, $"\"{subPath}\" must be relative to the image root");
        if (subPath.Split('/').Any(part => part == ".."))
            throw RuntimeException.InvalidField(field, $"\"{subPath}\" must not contain \"..\"");
    }

    /// <summary>The host path of <paramref name="subPath"/> in the image mounted at <paramref name="imageRoot"/>; it must exist.</summary>
    public static string Resolve(string imageRoot, string subPath, string field, string imageName)
    {
        Validate(subPath, field);
        if (string.IsNullOrEmpty(subPath)) return imageRoot;
        string resolved;
        try
        {
            resolved = RootfsPath.Resolve(imageRoot, subPath);
        }
        catch (IOException e)
        {
            throw RuntimeException.InvalidField(field, $"\"{subPath}\" in image {imageName}: {e.Message}");
        }
        if (!File.Exists(resolved) && !Directory.Exists(resolved))
            throw RuntimeException.InvalidField(field, $"\"{subPath}\" does not exist in image {imageName}");
        return resolved;
    }
}
