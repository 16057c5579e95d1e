from django.db import models
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.orm import declarative_base

Base = declarative_base()
metadata = MetaData()

orders = Table("orders", metadata, Column("id", Integer), Column("email", String))


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    email = Column(String)


class Review(models.Model):
    text = models.TextField()

    class Meta:
        db_table = "shop_reviews"


class Newsletter(models.Model):
    email = models.EmailField()
    email_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "newsletter_signups"
