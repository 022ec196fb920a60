from django.shortcuts import render

from dashboard import queries


def home(request):
    return render(request, "dashboard/home.html", {"counts": queries.home_counts()})
