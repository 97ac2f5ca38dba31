using Crisp.ImageService.Api;

namespace Crisp.Server.Services.Image;

/// <summary>
/// ImageSpec.runtime_handler on the image RPCs. Every handler shares crisp's one image store and snapshotter,
/// so a handler never changes what is pulled or whether an image is present; it is checked, as containerd
/// does, so a RuntimeClass naming a handler crisp lacks fails at the pull instead of at RunPodSandbox, and it
/// is answered back in Image.spec.runtime_handler so the kubelet can tell which handler a status is for.
/// </summary>
internal static class ImageRuntimeHandler
{
    /// <summary>The handler <paramref name="requested"/> names ("" for the default one); an unknown name is InvalidArgument naming <paramref name="field"/>.</summary>
    public static string Resolve(string? requested, IEnumerable<string> configured, string field)
    {
        if (string.IsNullOrEmpty(requested)) return "";
        var known = configured.Order(StringComparer.Ordinal).ToList();
        if (known.Contains(requested, StringComparer.Ordinal)) return requested;
        throw new ImageServiceException(ImageErrorKind.InvalidArgument,
            $"{field}: runtime handler \"{requested}\" is not configured (known: {string.Join(", ", known)}; \"\" is the default)");
    }
}
