"""Pure pieces of the spot checks: the sample drawn from a population and a seed, and the phone script."""

import math
import random
from decimal import Decimal

# The phone return visit (电话回访) script: a short satisfaction survey asked the same way every time.
PHONE_SCRIPT = (
    ("visited", "照料护理人本月是否按约定上门服务？", ("是", "否", "说不清")),
    ("duration", "每次服务时间是否足够？", ("足够", "不够", "说不清")),
    ("items", "是否提供了约定的服务项目（清洁、助洁、生活照料等）？", ("是", "部分", "否")),
    ("attitude", "照料护理人服务态度如何？", ("好", "一般", "差")),
    ("satisfaction", "您对本月的照料服务总体是否满意？", ("满意", "基本满意", "不满意")),
)


def draw_sample(population, seed: int, *, size=None, percentage=None):
    """The sample for a sorted population and a seed: the same inputs always give the same sample."""
    population = sorted(population)
    if size is None:
        size = math.ceil(len(population) * Decimal(percentage) / 100) if population else 0
    size = min(int(size), len(population))
    return sorted(random.Random(seed).sample(population, size))
