using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.ImageService.Api;

namespace Crisp.Server.Services.Image;

/// <summary>Translations between image-service records and CRI image messages, shared by the image RPCs.</summary>
internal static class ImageMessages
{
    /// <summary>
    /// CRI's view of an image: the uid or user name comes from the config's User ("uid[:gid]" or "name[:group]");
    /// spec.runtime_handler is the handler the request asked about (see <see cref="ImageRuntimeHandler"/>).
    /// </summary>
    public static Crisp.Cri.V1.Image ToCri(ImageRecord record, string runtimeHandler)
    {
        var image = new Crisp.Cri.V1.Image
        {
            Id = record.Id,
            Size = record.Size,
            Pinned = record.Pinned,
            Spec = new ImageSpec { Image = record.Id, UserSpecifiedImage = record.UserSpecifiedImage ?? "", RuntimeHandler = runtimeHandler },
        };
        image.RepoTags.AddRange(record.RepoTags);
        image.RepoDigests.AddRange(record.RepoDigests);
        string? user = record.Config.User;
        if (!string.IsNullOrEmpty(user))
        {
            string name = user.Split(':', 2)[0];
            if (long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long uid)) image.Uid = new Int64Value { Value = uid };
            else image.Username = name;
        }
        return image;
    }

    /// <summary>ImageStatus verbose info: the image config as pulled plus where its layers live.</summary>
    public static string VerboseInfo(ImageRecord record)
    {
        var info = new JsonObject
        {
            ["id"] = record.Id,
            ["userSpecifiedImage"] = record.UserSpecifiedImage,
            ["layerDirs"] = new JsonArray([.. record.LayerDirs.Select(dir => (JsonNode?)JsonValue.Create(dir))]),
            ["imageSpec"] = JsonNode.Parse(record.Config.RawJson),
        };
        return info.ToJsonString();
    }

    /// <summary>AuthConfig to credentials; null when the request carried none.</summary>
    public static RegistryCredentials? Credentials(AuthConfig? auth)
    {
        if (auth is null) return null;
        RegistryCredentials credentials = new(
            Username: Empty(auth.Username),
            Password: Empty(auth.Password),
            Auth: Empty(auth.Auth),
            IdentityToken: Empty(auth.IdentityToken),
            RegistryToken: Empty(auth.RegistryToken),
            ServerAddress: Empty(auth.ServerAddress));
        return credentials is { Username: null, Password: null, Auth: null, IdentityToken: null, RegistryToken: null } ? null : credentials;
    }

    /// <summary>The images a ListImages/StreamImages filter selects: all, or the one its image spec names.</summary>
    public static async Task<IReadOnlyList<ImageRecord>> SelectAsync(IImageManager images, ImageFilter? filter, CancellationToken cancellationToken)
    {
        string? wanted = filter?.Image?.Image;
        if (string.IsNullOrEmpty(wanted)) return await images.ListAsync(cancellationToken).ConfigureAwait(false);
        ImageRecord? match = await images.FindAsync(wanted, cancellationToken).ConfigureAwait(false);
        return match is null ? [] : [match];
    }

    private static string? Empty(string value) => string.IsNullOrEmpty(value) ? null : value;
}
