"""openleadr's VTN on Python 3.14: the one fix it needs, shared by the tests."""

from openleadr.service.vtn_service import VTNService


def fix_openleadr_vtn() -> None:
    """Make openleadr 0.5.36's VTN build its messages again (idempotent).

    Call it after making the OpenADRServer, which sets the builder: a
    functools.partial class attribute. Since Python 3.14 a partial binds like
    a method, so the VTN would pass itself as the message type. The VEN keeps
    its builder on the instance and is not affected.
    """
    builder = VTNService.__dict__["_create_message"]
    if not isinstance(builder, staticmethod):
        VTNService._create_message = staticmethod(builder)
