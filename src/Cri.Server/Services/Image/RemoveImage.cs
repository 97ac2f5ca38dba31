using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>Removes the image the tag, id or digest names, with all its tags; an absent image is success.</summary>
    public override async Task<RemoveImageResponse> RemoveImage(RemoveImageRequest request, ServerCallContext context)
    {
        string wanted = request.Image?.Image ?? "";
        if (string.IsNullOrWhiteSpace(wanted))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "RemoveImageRequest.image.image is empty");
        }
        await images.RemoveAsync(wanted, context.CancellationToken);
        return new RemoveImageResponse();
    }
}
